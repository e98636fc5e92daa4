"""The participant hears when an appointment is planned, moved or cancelled (with the
officer's note and Add to calendar); *I can't make it* carries its reason to the officer and
can be undone; a paused participant still hears about changes the officer makes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from db.models import Alert
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _team(h: Harness) -> tuple[TelegramUser, TelegramUser]:
    olga, sam = h.user(first_name="Olga"), h.user(first_name="Sam")
    await h.add_staff(olga, name="Olga")
    await h.register(sam, name="Sam", officer_telegram_id=olga.chat_id)
    return olga, sam


async def _plan(h: Harness, olga: TelegramUser, *, note: str | None = None) -> None:
    olga.send("/appointment")
    await h.pump()
    olga.press("Sam")
    await h.pump()
    olga.send("ma 14:00")
    await h.pump()
    olga.send("Reclassering")
    await h.pump()
    olga.press("Skip")
    await h.pump()
    if note is not None:
        olga.press("📝 Add a note")
        await h.pump()
        olga.send(note)
        await h.pump()
    assert "Plan this appointment?" in olga.last_reply()
    olga.press("✅ Confirm")
    await h.pump()


async def test_a_planned_appointment_is_told_with_the_note_and_buttons(h: Harness) -> None:
    olga, sam = await _team(h)
    await _plan(h, olga, note="Neem je loonstrook mee")
    told = sam.last_reply()
    assert told.startswith("You have a new appointment:")
    assert "Monday 7 December 14:00" in told and "Reclassering" in told
    assert "📝 Neem je loonstrook mee" in told
    assert "Bring your ID card" not in told, "the officer's note replaces the fixed line"
    assert sam.buttons() == ["👍 I'll be there", "I can't make it", "📆 Add to calendar"]
    assert "Sam got a message about it." in olga.last_reply()


async def test_moved_and_cancelled_are_told(h: Harness) -> None:
    olga, sam = await _team(h)
    await _plan(h, olga)
    olga.press("🕑 Move")
    await h.pump()
    olga.send("di 10:30")
    await h.pump()
    olga.press("✅ Confirm")
    await h.pump()
    assert sam.last_reply().startswith("Your appointment has moved. This is the new time:")
    assert "Tuesday 8 December 10:30" in sam.last_reply()
    olga.press("❌ Cancel appointment")
    await h.pump()
    olga.press("❌ Yes, cancel it")
    await h.pump()
    assert sam.last_reply().startswith("Your appointment is cancelled. You do not have to go:")
    assert "reply_markup" not in sam._messages()[-1], "nothing to answer any more"


async def test_cant_make_it_carries_the_reason_and_can_be_undone(h: Harness) -> None:
    olga, sam = await _team(h)
    await _plan(h, olga)
    sam.press("I can't make it")
    await h.pump()
    assert "Do you want to say why?" in sam.last_reply()
    sam.send("mijn moeder ligt in het ziekenhuis")
    await h.pump()
    alert = next(text for text in olga.replies() if "Cannot make it" in text)
    assert "Reclassering" in alert and "mijn moeder ligt in het ziekenhuis" in alert
    sam.send("/appointments")
    await h.pump()
    sam.press("👍 I'll be there")
    await h.pump()
    assert sam.last_reply() == "Good that you can make it after all! I told your officer. 👍"
    async with h.runtime.sessions() as session:
        kinds = {
            (alert.kind, alert.status) for alert in (await session.scalars(select(Alert))).all()
        }
    assert ("cant_make_it", "resolved") in kinds


async def test_a_paused_participant_still_hears_about_a_change(h: Harness) -> None:
    olga, sam = await _team(h)
    sam.send("/stop")
    await h.pump()
    sam.press("Yes, pause")
    await h.pump()
    await _plan(h, olga)
    assert sam.last_reply().startswith("You have a new appointment:")
    assert "Sam got a message about it." in olga.last_reply()
