"""How the outbox reacts to Telegram: flood control, server errors, bad requests."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import outcomes, sender
from bot.delivery.results import Delivered, Outcome
from bot.ratelimit import SlidingWindowLimiter
from bot.runtime import Tx
from bot.services import broadcasts
from db import broadcasts as broadcasts_db
from db import outbox as outbox_db
from db.models import OutboxItem
from db.outbox import ClaimedRow
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        yield running


async def _rows(h: Harness, chat_id: int) -> list[OutboxItem]:
    async with h.runtime.sessions() as session:
        rows = await session.scalars(
            select(OutboxItem).where(OutboxItem.chat_id == chat_id).order_by(OutboxItem.id)
        )
        return list(rows.all())


async def test_retry_after_is_honoured(h: Harness) -> None:
    sam = h.user()
    await h.register(sam)
    h.api.fail_next("sendMessage", status=429, retry_after=7, chat_id=sam.chat_id)
    sam.send("hallo")
    await h.pump()
    last = (await _rows(h, sam.chat_id))[-1]
    assert last.status == "pending"
    assert last.due_at == h.clock.now() + timedelta(seconds=7)
    await h.advance(timedelta(seconds=6))
    assert (await _rows(h, sam.chat_id))[-1].status == "pending"
    await h.advance(timedelta(seconds=1))
    assert (await _rows(h, sam.chat_id))[-1].status == "sent"
    attempts = [
        c
        for c in h.api.calls("sendMessage", chat_id=sam.chat_id)
        if "I saved your message" in str(c.params.get("text"))
    ]
    assert [c.status for c in attempts] == [429, 200]


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_back_off_and_retry(h: Harness, status: int) -> None:
    sam = h.user()
    await h.register(sam)
    h.api.fail_next("sendMessage", status=status, count=3, chat_id=sam.chat_id)
    sam.send("hallo")
    await h.pump()
    waits = []
    for _ in range(3):
        row = (await _rows(h, sam.chat_id))[-1]
        assert row.status == "pending"
        waits.append((row.due_at - h.clock.now()).total_seconds())
        await h.advance(timedelta(seconds=waits[-1]))
    assert (await _rows(h, sam.chat_id))[-1].status == "sent"
    assert waits[0] < waits[1] < waits[2]  # exponential, with jitter


async def test_bad_request_fails_once_without_a_loop(h: Harness) -> None:
    sam = h.user()
    await h.register(sam)
    h.api.fail_next(
        "sendMessage", status=400, description="Bad Request: chat not found", chat_id=sam.chat_id
    )
    sam.send("hallo")
    await h.pump()
    row = (await _rows(h, sam.chat_id))[-1]
    assert (row.status, row.attempts) == ("failed", 1)
    assert "chat not found" in (row.error or "").lower()
    await h.advance(timedelta(hours=1))
    assert (await _rows(h, sam.chat_id))[-1].attempts == 1


async def test_gives_up_after_many_server_errors(h: Harness) -> None:
    sam = h.user()
    await h.register(sam)
    h.api.fail_next("sendMessage", status=500, count=50, chat_id=sam.chat_id)
    sam.send("hallo")
    await h.pump()
    for _ in range(12):
        await h.advance(timedelta(minutes=10))
    row = (await _rows(h, sam.chat_id))[-1]
    assert row.status == "failed"
    assert row.attempts == 8


async def _broadcast_to(h: Harness, count: int) -> list[TelegramUser]:
    people = [h.user(first_name=f"P{n}") for n in range(count)]
    for person in people:
        await h.register(person, name=f"Deelnemer {person.chat_id}")
    await h.broadcast("Het loket is morgen dicht.")
    return people


async def test_a_broadcast_whose_answer_was_lost_is_never_sent_twice(h: Harness) -> None:
    people = await _broadcast_to(h, 3)
    unlucky = people[1]
    h.api.fail_next("sendMessage", chat_id=unlucky.chat_id, lose_answer=True)
    await h.pump()
    for _ in range(3):
        await h.advance(timedelta(minutes=10))
    copies = [
        call
        for call in h.api.calls("sendMessage", chat_id=unlucky.chat_id)
        if "loket" in str(call.params.get("text"))
    ]
    assert len(copies) == 1  # it arrived once; its answer was lost; it is never resent
    broadcast_rows = [row for row in await _rows(h, unlucky.chat_id) if row.kind == "broadcast"]
    assert [row.status for row in broadcast_rows] == ["unknown"]
    async with h.runtime.sessions() as session:
        broadcast = await broadcasts_db.by_id(session, 1)
        assert broadcast is not None
        report = await broadcasts.report(session, broadcast)
    assert (report.sent, report.failed, report.pending) == (2, 1, 0)
    assert report.recipients == report.sent + report.failed + report.blocked + report.pending


async def _broadcast_while_recording_fails(
    h: Harness, monkeypatch: pytest.MonkeyPatch, error: Exception, times: int = 1
) -> list[str]:
    """Broadcast to three people while the first delivered row's outcome cannot be stored
    (`error` is raised, `times` times); each gets one copy. The statuses of their rows."""
    monkeypatch.setattr(sender, "RECORD_RETRY_SECONDS", 0.001)
    real_record = outcomes.record
    failed: list[int] = []

    async def record(tx: Tx, item: ClaimedRow, outcome: Outcome) -> None:
        first = not failed or item.chat_id == failed[0]
        broadcast_delivered = item.kind == "broadcast" and isinstance(outcome, Delivered)
        if first and len(failed) < times and broadcast_delivered:
            failed.append(item.chat_id)
            raise error
        await real_record(tx, item, outcome)

    monkeypatch.setattr(outcomes, "record", record)
    people = await _broadcast_to(h, 3)
    await h.pump()
    for _ in range(3):
        await h.advance(timedelta(minutes=10))
    assert failed, "the fault was never injected"
    copies = [
        sum(
            1
            for call in h.api.calls("sendMessage", chat_id=person.chat_id)
            if call.ok and "loket" in str(call.params.get("text"))
        )
        for person in people
    ]
    assert copies == [1, 1, 1]
    return [
        row.status if person.chat_id != failed[0] else f"{row.status} (failed to record)"
        for person in people
        for row in await _rows(h, person.chat_id)
        if row.kind == "broadcast"
    ]


async def test_a_delivered_broadcast_whose_outcome_met_a_locked_database_is_not_sent_again(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its send arrived, storing the outcome met a lock, and the row went back to pending
    and out a second time."""
    locked = OperationalError("UPDATE outbox", {}, sqlite3.OperationalError("database is locked"))
    statuses = await _broadcast_while_recording_fails(h, monkeypatch, locked)
    assert sorted(statuses) == ["sent", "sent", "sent (failed to record)"]  # the lock passed


async def test_a_broadcast_whose_outcome_stays_locked_ends_unknown_and_is_not_sent_again(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock that never passes is not waited for forever: after a few tries it counts as
    a bug, and the started broadcast row ends `unknown`."""
    locked = OperationalError("UPDATE outbox", {}, sqlite3.OperationalError("database is locked"))
    statuses = await _broadcast_while_recording_fails(h, monkeypatch, locked, times=100)
    assert sorted(statuses) == ["sent", "sent", "unknown (failed to record)"]


async def test_a_broadcast_whose_outcome_could_not_be_stored_at_all_is_never_sent_again(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = await _broadcast_while_recording_fails(h, monkeypatch, RuntimeError("a bug"))
    assert sorted(statuses) == ["sent", "sent", "unknown (failed to record)"]


async def test_a_reply_whose_answer_was_lost_is_sent_again(h: Harness) -> None:
    sam = h.user()
    await h.register(sam)
    h.api.fail_next("sendMessage", chat_id=sam.chat_id, lose_answer=True)
    sam.send("hallo")
    await h.pump()
    await h.advance(timedelta(minutes=1))
    acknowledgements = [
        call
        for call in h.api.calls("sendMessage", chat_id=sam.chat_id)
        if "I saved your message" in str(call.params.get("text"))
    ]
    assert len(acknowledgements) == 2  # at least once: an answer may come twice, never zero
    assert (await _rows(h, sam.chat_id))[-1].status == "sent"


async def test_a_normal_stop_puts_unattempted_broadcast_rows_back(h: Harness) -> None:
    await _broadcast_to(h, 12)
    h.sender.send_limit = SlidingWindowLimiter(30, paced_at_most=2)  # stops half-way
    h.api.delay(0.3)
    stop = asyncio.Event()
    running = asyncio.create_task(h.sender.run(stop))
    await h.api.wait_for_calls_async(
        "sendMessage", 2, predicate=lambda call: "loket" in str(call.params.get("text"))
    )
    stop.set()
    await running
    h.api.delay(0)
    async with h.runtime.sessions() as session:
        statuses = (
            await session.scalars(select(OutboxItem.status).where(OutboxItem.kind == "broadcast"))
        ).all()
    assert "sending" not in statuses and "unknown" not in statuses
    assert statuses.count("sent") >= 2 and statuses.count("pending") >= 1
    assert len(statuses) == 12


async def test_flood_control_for_a_chat_holds_that_chat_only(h: Harness) -> None:
    sam, kim = h.user(), h.user(first_name="Kim")
    await h.register(sam)
    await h.register(kim, name="Kim Test")
    h.api.fail_next("sendMessage", status=429, retry_after=20, chat_id=sam.chat_id)
    sam.send("/help")
    await h.pump()
    sent_before = len(h.api.calls("sendMessage", chat_id=sam.chat_id))
    sam.send("/appointments")
    kim.send("/help")
    await h.pump()
    await h.advance(timedelta(seconds=10))
    assert len(h.api.calls("sendMessage", chat_id=sam.chat_id)) == sent_before
    assert kim.last_reply()  # other chats are not held
    await h.advance(timedelta(seconds=11))
    answers = [c for c in h.api.calls("sendMessage", chat_id=sam.chat_id) if c.ok]
    assert len(answers) >= 2


async def test_flood_control_without_a_chat_holds_everyone(h: Harness) -> None:
    sam = h.user()
    await h.register(sam)
    before = len(h.api.calls("sendMessage"))
    h.runtime.flood.hold(None, h.clock.now() + timedelta(seconds=30))
    sam.send("/help")
    await h.pump()
    await h.advance(timedelta(seconds=20))
    assert len(h.api.calls("sendMessage")) == before
    await h.advance(timedelta(seconds=11))
    assert "Check-in" in sam.last_reply()


async def test_the_sender_waits_out_a_database_lost_while_it_plans_its_sleep(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in CI: PostgreSQL stopped just as the sender asked when the next row is due; the
    broken connection's rollback raised, the sender task ended and took the bot with it."""
    real_next_due = outbox_db.next_due_at
    failures = 2

    async def away(session: AsyncSession) -> datetime | None:
        nonlocal failures
        if failures:
            failures -= 1
            raise InternalError(
                "ROLLBACK", {}, Exception("cannot switch to state 15; another operation")
            )
        return await real_next_due(session)

    monkeypatch.setattr(outbox_db, "next_due_at", away)
    stop = asyncio.Event()
    running = asyncio.create_task(h.sender.run(stop))
    for _ in range(200):
        if not failures or running.done():
            break
        await asyncio.sleep(0.05)
    await _broadcast_to(h, 1)
    await h.api.wait_for_calls_async("sendMessage", 1)
    assert not running.done(), "the sender must keep running while the database is away"
    stop.set()
    await running
    assert failures == 0
