"""No scheduled check-in question or broadcast reaches a participant within 12 hours of a
crisis alert nobody resolved; the officer sees what was held back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.engine import scheduler
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness

CRISIS = "ik wil dood, ik kan niet meer"
PROMPT = "Time for a short check-in"
HELD_CHECKIN = "⏸ The check-in question was not sent to Sam"
HELD_BROADCAST = "⏸ The message from the municipality was not sent to Sam"


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _team(h: Harness) -> tuple[TelegramUser, TelegramUser, TelegramUser]:
    officer = h.user(first_name="Olga")
    await h.add_staff(officer, name="Olga")
    sam, kim = h.user(first_name="Sam"), h.user(first_name="Kim")
    await h.register(sam, name="Sam", officer_telegram_id=officer.chat_id)
    await h.register(kim, name="Kim", officer_telegram_id=officer.chat_id)
    return officer, sam, kim


async def _crisis(h: Harness, sam: TelegramUser) -> None:
    """At a prompt slot (the clock starts on Thursday 10:00 Amsterdam; the next slot is
    Monday 10:00)."""
    sam.send(CRISIS)
    await h.pump()


async def test_no_check_in_question_after_an_open_crisis(h: Harness) -> None:
    officer, sam, kim = await _team(h)
    await _crisis(h, sam)
    assert await scheduler.send_prompts(h.runtime) == 1  # Kim only
    await h.pump()
    assert PROMPT in kim.last_reply()
    assert not any(PROMPT in text for text in sam.replies())
    assert any(text.startswith(HELD_CHECKIN) for text in officer.replies())


async def test_the_check_in_comes_again_once_the_crisis_is_resolved(h: Harness) -> None:
    officer, sam, _kim = await _team(h)
    await _crisis(h, sam)
    officer.press("✅ Resolved")
    await h.pump()
    assert await scheduler.send_prompts(h.runtime) == 2
    await h.pump()
    assert PROMPT in sam.last_reply()


async def test_after_twelve_hours_the_check_in_comes_again(h: Harness) -> None:
    _officer, sam, _kim = await _team(h)
    await _crisis(h, sam)
    h.clock.advance(timedelta(days=4))  # Monday 10:00, the next slot
    assert await scheduler.send_prompts(h.runtime) == 2


async def test_no_broadcast_after_an_open_crisis(h: Harness) -> None:
    officer, sam, kim = await _team(h)
    await _crisis(h, sam)
    await h.broadcast("Het loket is morgen dicht.")
    await h.pump()
    assert any("Het loket is morgen dicht." in text for text in kim.replies())
    assert not any("Het loket is morgen dicht." in text for text in sam.replies())
    assert any(text.startswith(HELD_BROADCAST) for text in officer.replies())
