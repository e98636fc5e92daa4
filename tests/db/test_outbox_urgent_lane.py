"""An alert for an officer whose chat is busy with a slow copy does not wait for it.

Under load a staff copy can wait seconds for a slot of Telegram's 30 a second (replies to
participants go first); the chat's task holds that chat meanwhile. Urgent rows (safety
answers, high and critical alerts) for such a chat are claimed anyway and sent beside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from sqlalchemy import select

from bot.conversation import outbox
from bot.conversation.events import Address
from bot.delivery.results import Delivered, Outcome
from bot.delivery.sender import OutboxSender
from bot.runtime import Runtime
from db.enums import Action, Channel
from db.models import OutboxItem
from db.outbox import ClaimedRow

OFFICER = 6_000_001


class SlowCopies:
    """A channel on which staff copies hang until released; everything else is instant."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.sent: list[str] = []
        self.copy_started = asyncio.Event()

    async def send(self, item: ClaimedRow, never_twice: Collection[str]) -> Outcome:
        if item.kind == outbox.STAFF_COPY:
            self.copy_started.set()
            await self.release.wait()
        self.sent.append(item.kind)
        return Delivered(len(self.sent))

    async def create_thread(self, chat_id: int, title: str) -> int:
        raise AssertionError("no threads here")


async def _queue(runtime: Runtime, kind: str, priority: int) -> None:
    async with runtime.sessions() as session, session.begin():
        outbox.call(
            session,
            Action.MESSAGE,
            Address(Channel.TELEGRAM, OFFICER),
            {"text": kind},
            now=runtime.clock.now(),
            kind=kind,
            priority=priority,
        )


async def _until_sent(channel: SlowCopies, count: int) -> None:
    for _ in range(500):
        if len(channel.sent) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {channel.sent} sent")


async def _statuses(runtime: Runtime) -> list[tuple[str, str]]:
    async with runtime.sessions() as session:
        rows = await session.scalars(select(OutboxItem).order_by(OutboxItem.id))
        return [(row.kind, row.status) for row in rows]


async def test_an_alert_overtakes_a_copy_that_waits_for_its_slot(runtime: Runtime) -> None:
    channel = SlowCopies()
    sender = OutboxSender(runtime, {Channel.TELEGRAM: channel})
    await _queue(runtime, outbox.STAFF_COPY, outbox.PRIORITY_PROMPT)
    assert await sender._claim_and_start() == 1
    await asyncio.wait_for(channel.copy_started.wait(), 5)

    await _queue(runtime, "alert", outbox.PRIORITY_CRITICAL_ALERT)
    await _queue(runtime, "reply", outbox.PRIORITY_REPLY)
    assert await sender._claim_and_start() == 1  # the alert; the reply keeps the chat's order
    await _until_sent(channel, 1)
    assert channel.sent == ["alert"]
    assert await sender._claim_and_start() == 0  # nothing else is urgent

    channel.release.set()
    await sender.send_due()
    await sender.send_due()
    assert channel.sent == ["alert", outbox.STAFF_COPY, "reply"]
    assert await _statuses(runtime) == [
        (outbox.STAFF_COPY, "sent"),
        ("alert", "sent"),
        ("reply", "sent"),
    ]


async def test_urgent_rows_of_one_chat_still_go_one_after_another(runtime: Runtime) -> None:
    channel = SlowCopies()
    sender = OutboxSender(runtime, {Channel.TELEGRAM: channel})
    await _queue(runtime, outbox.STAFF_COPY, outbox.PRIORITY_PROMPT)
    await sender._claim_and_start()
    await asyncio.wait_for(channel.copy_started.wait(), 5)
    await _queue(runtime, "safety", outbox.PRIORITY_SAFETY)
    await _queue(runtime, "alert", outbox.PRIORITY_CRITICAL_ALERT)
    assert await sender._claim_and_start() == 2
    await _until_sent(channel, 2)
    assert channel.sent == ["safety", "alert"]
    await _queue(runtime, "alert", outbox.PRIORITY_CRITICAL_ALERT)
    channel.release.set()
    await sender.send_due()
    await sender.send_due()
    assert channel.sent[:2] == ["safety", "alert"]
    assert sorted(channel.sent[2:]) == ["alert", outbox.STAFF_COPY]
