"""Check-in through the real Application: buttons, half-way stops, stale taps, prompts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.engine import scheduler
from db.models import Alert, Checkin, Participant
from tests.clock import ManualClock
from tests.harness import Harness, running_harness

DOMAINS = ("housing", "work", "money", "care", "paperwork")


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _checkins(h: Harness) -> list[Checkin]:
    async with h.runtime.sessions() as session:
        return list((await session.scalars(select(Checkin).order_by(Checkin.id))).all())


async def _alerts(h: Harness) -> list[Alert]:
    async with h.runtime.sessions() as session:
        return list((await session.scalars(select(Alert).order_by(Alert.id))).all())


async def test_full_checkin_with_buttons(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("✅ Check-in")
    await harness.pump()
    assert "How are you doing" in sam.last_reply()
    sam.press("Good")
    await harness.pump()
    for _ in DOMAINS:
        sam.press("Fine")
        await harness.pump()
    assert "Anything else" in sam.last_reply()
    sam.send("Alles goed, werk gevonden bij een bakker")
    await harness.pump()
    assert "Thank you" in sam.last_reply()
    (checkin,) = await _checkins(harness)
    assert checkin.status == "completed"
    assert checkin.mood == "good"
    assert checkin.answers == dict.fromkeys(DOMAINS, "fine")
    assert checkin.note == "Alles goed, werk gevonden bij een bakker"
    assert await _alerts(harness) == []


async def test_bad_mood_or_problem_raises_a_medium_alert(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/checkin")
    await harness.pump()
    sam.press("Bad")
    await harness.pump()
    sam.press("Problem")
    await harness.pump()
    for _ in DOMAINS[1:]:
        sam.press("Fine")
        await harness.pump()
    sam.press("Skip")
    await harness.pump()
    (alert,) = await _alerts(harness)
    assert (alert.kind, alert.severity) == ("checkin", "medium")
    assert alert.categories == ["mood:bad", "housing:problem"]  # the whole picture, one alert


async def test_stop_half_way_and_continue_later(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/checkin")
    await harness.pump()
    sam.press("Okay")
    await harness.pump()
    sam.press("Worried")
    await harness.pump()
    sam.send("/appointments")  # wanders off
    await harness.pump()
    sam.send("/checkin")
    await harness.pump()
    assert "continue" in sam.replies()[-2]
    assert "work or school" in sam.last_reply()
    (checkin,) = await _checkins(harness)
    assert checkin.mood == "okay"
    assert checkin.answers == {"housing": "worried"}


async def test_double_tap_and_old_buttons(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/checkin")
    await harness.pump()
    mood_message = harness.api.last_message_id(sam.chat_id)
    old = harness.api.message(sam.chat_id, mood_message)
    assert old is not None
    good_button = old["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    sam.press("Good")
    await harness.pump()
    answered = harness.api.message(sam.chat_id, mood_message)
    assert answered is not None and "reply_markup" not in answered, "answered: no buttons"
    assert answered["text"].endswith("\n\n✔️ 🙂 Good")
    sam.press_data(good_button, mood_message)  # a press that was already on its way
    await harness.pump()
    assert "Already noted" in sam.last_reply()
    sam.press_data(good_button.replace("mood.good", "mood.bad"), mood_message)
    await harness.pump()
    assert "older message" in sam.last_reply()
    (checkin,) = await _checkins(harness)
    assert checkin.mood == "good"


async def test_other_messages_during_the_flow_are_kept(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/checkin")
    await harness.pump()
    sam.send_sticker()
    sam.send("wacht even")
    await harness.pump()
    assert "How are you doing" in sam.last_reply()
    sam.press("Good")
    await harness.pump()
    (checkin,) = await _checkins(harness)
    assert checkin.mood == "good"


async def test_voice_note_at_the_end(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/checkin")
    await harness.pump()
    sam.press("Good")
    await harness.pump()
    for _ in DOMAINS:
        sam.press("Fine")
        await harness.pump()
    sam.send_voice()
    await harness.pump()
    (checkin,) = await _checkins(harness)
    assert checkin.status == "completed"
    assert checkin.voice_file_id is not None


async def test_scheduled_prompts_and_missed_alert(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    # Thursday 3 December 2026 09:00 UTC = 10:00 Amsterdam: a prompt slot (mon,thu 10:00)
    assert await scheduler.send_prompts(harness.runtime) == 1
    assert await scheduler.send_prompts(harness.runtime) == 0  # same slot: once
    await harness.pump()
    assert "Time for a short check-in" in sam.last_reply()
    harness.clock.advance(timedelta(days=4))  # Monday 10:00
    assert await scheduler.send_prompts(harness.runtime) == 1
    assert await _alerts(harness) == []
    harness.clock.advance(timedelta(days=3))  # Thursday again: second miss in a row
    await scheduler.send_prompts(harness.runtime)
    (alert,) = await _alerts(harness)
    assert alert.kind == "missed_checkins"
    async with harness.runtime.sessions() as session:
        participant = (await session.scalars(select(Participant))).one()
    assert participant.missed_checkins == 2
    await harness.pump()
    sam.press("Good")  # answering the latest prompt resets the count
    await harness.pump()
    for _ in DOMAINS:
        sam.press("Fine")
        await harness.pump()
    sam.press("Skip")
    await harness.pump()
    async with harness.runtime.sessions() as session:
        participant = (await session.scalars(select(Participant))).one()
    assert participant.missed_checkins == 0


async def test_paused_participant_gets_no_prompts(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/stop")
    await harness.pump()
    sam.press("Yes, pause")
    await harness.pump()
    assert "Your officer can still write to you" in sam.last_reply()
    assert sam.buttons() == ["▶️ Start again"]
    assert await scheduler.send_prompts(harness.runtime) == 0
    (alert,) = await _alerts(harness)
    assert alert.kind == "paused"
    sam.send("/start")
    await harness.pump()
    assert "Welcome back" in sam.last_reply()


async def test_start_again_is_one_tap_even_after_other_conversations(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/stop")
    await harness.pump()
    sam.press("Yes, pause")
    await harness.pump()
    sam.send("/privacy")  # another flow in between
    await harness.pump()
    sam.press("▶️ Start again")
    await harness.pump()
    assert "Welcome back" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        participant = (await session.scalars(select(Participant))).one()
    assert participant.status == "active"
    sam.press("▶️ Start again")
    await harness.pump()
    assert sam.last_reply() == "Already noted. 👍"


async def test_the_officer_reaches_a_paused_participant(harness: Harness) -> None:
    officer = harness.user(first_name="Olga")
    await harness.add_staff(officer, name="Olga")
    sam = harness.user()
    await harness.register(sam, officer_telegram_id=officer.chat_id)
    sam.send("/stop")
    await harness.pump()
    sam.press("Yes, pause")
    await harness.pump()
    sam.send("ik wil even niks")
    await harness.pump()
    officer.press("✍️ Reply")
    await harness.pump()
    officer.send("Oké. Ik ben er als je me nodig hebt.")
    await harness.pump()
    assert sam.last_reply() == "💬 Olga, your officer:\nOké. Ik ben er als je me nodig hebt."
    assert officer.last_reply() == "✓ Sent to Test Deelnemer"
