"""The weekly sleep question: asked on Sunday evening, answered once per week, exported."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.engine import scheduler
from bot.services.export import export_participant
from db.models import Answer
from tests.clock import ManualClock
from tests.harness import Harness, running_harness


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def test_asked_on_sunday_evening_and_kept_once_a_week(harness: Harness) -> None:
    sam = harness.user()
    sam_id = await harness.register(sam)
    harness.clock.advance(timedelta(days=3, hours=9, minutes=5))  # Sunday 19:05 local
    assert await scheduler.send_prompts(harness.runtime) == 1
    assert await scheduler.send_prompts(harness.runtime) == 0  # one slot, once
    await harness.pump()
    assert "How have you been sleeping" in sam.last_reply()
    sam.press("Badly")
    await harness.pump()
    assert "Your officer sees this" in sam.last_reply()
    sam.press("Well")
    await harness.pump()
    assert "Already noted" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        stored = (await session.scalars(select(Answer))).all()
        document = await export_participant(session, sam_id)
    assert [(a.flow, a.question, a.value) for a in stored] == [("sl", "2026w49", "badly")]
    assert document is not None
    assert [(a["question"], a["value"]) for a in document["answers"]] == [("2026w49", "badly")]


async def test_a_forged_answer_changes_nothing(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    from bot.conversation.choices import sign_choice

    message = harness.api.last_message_id(sam.chat_id)
    sam.press_data(sign_choice(harness.runtime.keyring, "sl:2026w49:great"), message)
    await harness.pump()
    assert "older message" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        assert (await session.scalars(select(Answer))).all() == []
