"""A typed "1" on Signal answers the question Oprit asked last, even when an older message
that waited out an outage reached the phone after that question.

Seen under load: an officer's message queued while the Signal daemon was away went out just
after the check-in question that was queued later. The typed answer was then read against
the officer's message (no choices) and the participant got the question again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from bot.channels.signal.parse import SIGNAL_CHAT_BASE
from bot.conversation import outbox
from bot.conversation.events import Address
from bot.runtime import Runtime
from db import signal as signal_db
from db.enums import Action, Channel, OutboxStatus
from db.models import OutboxItem

CHAT = SIGNAL_CHAT_BASE + 1


async def _queue(runtime: Runtime, payload: dict[str, object], kind: str) -> int:
    async with runtime.sessions() as session, session.begin():
        outbox.call(
            session,
            Action.MESSAGE,
            Address(Channel.SIGNAL, CHAT),
            payload,
            now=runtime.clock.now(),
            kind=kind,
            priority=outbox.PRIORITY_REPLY,
        )
        await session.flush()
        return int(await session.scalar(select(func.max(OutboxItem.id))) or 0)


async def _sent(runtime: Runtime, row_id: int, after_seconds: int) -> None:
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == row_id)
            .values(
                status=OutboxStatus.SENT,
                sent_at=runtime.clock.now() + timedelta(seconds=after_seconds),
            )
        )


async def test_the_question_asked_last_wins_over_an_older_message_delivered_later(
    runtime: Runtime,
) -> None:
    relay = await _queue(runtime, {"text": "Ben je er morgen?"}, "relay")
    question = await _queue(
        runtime,
        {"text": "How are you doing?", "choices": [[["mood:good", "Good"]]]},
        "reply",
    )
    await _sent(runtime, question, 1)
    await _sent(runtime, relay, 2)  # waited out the outage: reached the phone after it
    async with runtime.sessions() as session:
        last = await signal_db.last_message_to(session, CHAT)
    assert last is not None and last.id == question


async def test_a_message_written_after_the_question_still_ends_it(runtime: Runtime) -> None:
    question = await _queue(
        runtime,
        {"text": "How are you doing?", "choices": [[["mood:good", "Good"]]]},
        "reply",
    )
    thanks = await _queue(runtime, {"text": "Thank you!"}, "reply")
    await _sent(runtime, question, 1)
    await _sent(runtime, thanks, 2)
    async with runtime.sessions() as session:
        last = await signal_db.last_message_to(session, CHAT)
    assert last is not None and last.id == thanks
