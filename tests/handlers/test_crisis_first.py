"""A crisis message goes before a backlog of everyday messages, and a chat keeps its order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.telegram.parse import chat_and_text
from bot.engine import inbox
from bot.runtime import Runtime, current_scope
from db import inbox as inbox_db
from db.models import Message
from tests.clock import ManualClock
from tests.harness import Harness, running_harness


@pytest.fixture
async def harness(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        yield running


def _text_update(update_id: int, chat_id: int, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_790_000_000,
            "text": text,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Kim"},
            **extra,
        },
    }


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (_text_update(1, 501, "ik wil dood"), (501, True)),
        (_text_update(1, 501, "I am going to kill myself tonight"), (501, True)),
        (_text_update(1, 501, "أريد أن أنتحر"), (501, True)),
        (_text_update(1, 501, "hoi, tot morgen bij de afspraak"), (501, False)),
        (_text_update(1, 501, ""), (501, False)),
        (_text_update(1, 501, "x" * 100_000), (501, False)),
        ({"update_id": 1, "message": {"chat": {"id": 7}, "caption": "ik wil dood"}}, (7, True)),
        ({"update_id": 1, "edited_message": {"chat": {"id": 7}, "text": "ik wil dood"}}, (7, True)),
        ({"update_id": 1, "callback_query": {"message": {"chat": {"id": 9}}}}, (9, False)),
        ({"update_id": 1}, (None, False)),
        ({"update_id": 1, "message": None}, (None, False)),
        ({"update_id": 1, "message": "ik wil dood"}, (None, False)),
        ({"update_id": 1, "message": {"chat": {"id": "7"}, "text": "ik wil dood"}}, (None, False)),
        ({"update_id": 1, "message": {"chat": {"id": True}, "text": "ik wil dood"}}, (None, False)),
        ({"update_id": 1, "message": {"chat": [], "text": "ik wil dood"}}, (None, False)),
        ({"update_id": 1, "message": {"chat": {"id": 7}, "text": ["ik wil dood"]}}, (7, False)),
    ],
)
def test_the_inbox_reads_chat_and_urgency_of_raw_updates_without_raising(
    payload: dict[str, Any], expected: tuple[int | None, bool]
) -> None:
    chat, text = chat_and_text(payload)
    assert (chat, inbox.looks_urgent(text)) == expected


async def _store(runtime: Runtime, updates: list[dict[str, Any]]) -> bool:
    async with runtime.sessions() as session, session.begin():
        _new, urgent = await inbox.store(session, updates, runtime.clock.now(), chat_and_text)
    return urgent


async def test_urgent_chat_goes_first_with_its_earlier_updates(runtime: Runtime) -> None:
    urgent = await _store(
        runtime,
        [
            _text_update(10, 100, "hoi"),
            _text_update(11, 200, "eerste regel"),
            _text_update(12, 100, "alles goed"),
            _text_update(13, 300, "hallo"),
            _text_update(14, 200, "ik wil dood"),
            _text_update(15, 200, "na de crisis"),
            _text_update(16, 400, "ik ga hem pakken"),
        ],
    )
    assert urgent
    async with runtime.sessions() as session:
        order = await inbox_db.pending_update_ids(session, 100)
    # chat 200 up to its crisis, then chat 400's threat, then everything else oldest first
    assert order == [11, 14, 16, 10, 12, 13, 15]
    async with runtime.sessions() as session, session.begin():
        await inbox_db.mark_processed(session, [11, 14, 16], runtime.clock.now())
    async with runtime.sessions() as session:
        assert await inbox_db.pending_update_ids(session, 100) == [10, 12, 13, 15]
        assert await inbox_db.pending_update_ids(session, 2) == [10, 12]


async def test_an_urgent_update_interrupts_the_batch_in_progress(runtime: Runtime) -> None:
    await _store(
        runtime, [_text_update(update_id, 100 + update_id, "hoi") for update_id in range(1, 21)]
    )
    handled: list[int] = []

    async def handle(payload: dict[str, Any]) -> None:
        handled.append(int(payload["update_id"]))
        if len(handled) == 3:  # a crisis arrives while the backlog is being processed
            await inbox.store(
                current_scope().session,
                [_text_update(99, 999, "ik wil dood")],
                runtime.clock.now(),
                chat_and_text,
            )
            processor.wake(urgent=True)

    async def handle_failure(payload: dict[str, Any], error: BaseException) -> None:
        raise AssertionError(error)

    processor = inbox.InboxProcessor(runtime, handle, handle_failure)
    assert await processor.process_pending() == 21
    assert handled[:4] == [1, 2, 3, 99]
    assert sorted(handled) == [*range(1, 21), 99]


async def test_crisis_behind_a_backlog_is_stored_and_alerted_first(harness: Harness) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    chatty = [harness.user() for _ in range(3)]
    for person in chatty:
        await harness.register(person, officer_telegram_id=officer.chat_id)
    kim = harness.user()
    kim_id = await harness.register(kim, officer_telegram_id=officer.chat_id)
    kim.send("goedemorgen")
    for number in range(30):
        chatty[number % 3].send(f"gewoon bericht {number}")
    kim.send("ik wil dood")
    for number in range(10):
        chatty[number % 3].send(f"nog een bericht {number}")
    await harness.pump()
    async with harness.runtime.sessions() as session:
        inbound = (
            await session.scalars(
                select(Message).where(Message.direction == "in").order_by(Message.id)
            )
        ).all()
    texts = [(row.participant_id == kim_id, row.text) for row in inbound[-42:]]
    assert texts[:2] == [(True, "goedemorgen"), (True, "ik wil dood")]
    assert len(inbound[-42:]) == 42
    assert any("113" in text for text in kim.replies())
    alerts = [text for text in officer.replies() if "CRITICAL" in text]
    assert len(alerts) == 1


async def test_a_flow_started_by_one_update_holds_for_the_next_in_the_same_batch(
    harness: Harness,
) -> None:
    kim = harness.user()
    await harness.register(kim)
    kim.send("/checkin")
    kim.send("hallo, ik ben er")  # processed in the same transaction as /checkin
    await harness.pump()
    replies = kim.replies()
    assert replies[-3] == "How are you doing?"
    assert replies[-2] == "I saved your message. To go on with the check-in:"
    assert "How are you doing?" in replies[-1]
