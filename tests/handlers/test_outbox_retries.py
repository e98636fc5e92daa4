"""How the outbox reacts to Telegram: flood control, server errors, bad requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from db.models import OutboxItem
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
