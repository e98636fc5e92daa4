"""Appointments: list, confirm, decline with a reason, calendar file, other people's ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.services import appointments
from bot.timeparse import parse_local_time
from db.models import Alert, Appointment
from tests.clock import ManualClock
from tests.harness import Harness, running_harness


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _plan(h: Harness, participant_id: int, at: datetime) -> int:
    async with h.runtime.sessions() as session, session.begin():
        made = await appointments.create(
            session,
            participant_id,
            at=at,
            with_org="Reclassering",
            location="Stationsplein 1",
            note=None,
            offsets=h.runtime.settings.reminder_offsets,
            zone=h.runtime.settings.tz,
            now=h.clock.now(),
        )
        return made.appointment.id


async def test_list_confirm_and_calendar(harness: Harness) -> None:
    sam = harness.user()
    participant_id = await harness.register(sam)
    # Monday 7 December 2026, 14:00 in Amsterdam = 13:00 UTC
    await _plan(harness, participant_id, datetime(2026, 12, 7, 13, 0, tzinfo=UTC))
    sam.send("📅 My appointments")
    await harness.pump()
    shown = sam.last_reply()
    assert "Monday 7 December 14:00" in shown
    assert "Reclassering" in shown and "Stationsplein 1" in shown
    sam.press("I'll be there")
    await harness.pump()
    assert "see you" in sam.last_reply()
    sam.press("Add to calendar")
    await harness.pump()
    (document,) = harness.api.calls("sendDocument")
    uploaded = document.files["document"]
    assert uploaded.filename.endswith(".ics")
    assert b"DTSTART:20261207T130000Z" in uploaded.data
    async with harness.runtime.sessions() as session:
        appointment = (await session.scalars(select(Appointment))).one()
    assert appointment.confirmation == "confirmed"


async def test_cant_make_it_with_reason(harness: Harness) -> None:
    sam = harness.user()
    participant_id = await harness.register(sam)
    await _plan(harness, participant_id, harness.clock.now() + timedelta(days=2))
    sam.send("/appointments")
    await harness.pump()
    sam.press("can't make it")
    await harness.pump()
    assert "say why" in sam.last_reply()
    sam.send("Ik moet werken die dag")
    await harness.pump()
    async with harness.runtime.sessions() as session:
        appointment = (await session.scalars(select(Appointment))).one()
        alert = (await session.scalars(select(Alert))).one()
    assert appointment.confirmation == "declined"
    assert appointment.decline_reason == "Ik moet werken die dag"
    assert (alert.kind, alert.appointment_id) == ("cant_make_it", appointment.id)


async def test_reminders_are_made_from_the_offsets(harness: Harness) -> None:
    sam = harness.user()
    participant_id = await harness.register(sam)
    now = harness.clock.now()
    async with harness.runtime.sessions() as session, session.begin():
        made = await appointments.create(
            session,
            participant_id,
            at=now + timedelta(hours=5),
            with_org="UWV",
            location=None,
            note=None,
            offsets=[timedelta(hours=24), timedelta(hours=2)],
            zone=harness.runtime.settings.tz,
            now=now,
        )
    assert made.reminder_times == [now + timedelta(hours=3)]  # the 24h one is already past


async def test_someone_elses_appointment_cannot_be_touched(harness: Harness) -> None:
    sam, kim = harness.user(), harness.user(first_name="Kim")
    await harness.register(sam)
    kim_id = await harness.register(kim, name="Kim Test")
    kims = await _plan(harness, kim_id, harness.clock.now() + timedelta(days=2))
    sam.send("/appointments")
    await harness.pump()
    assert "no appointments" in sam.last_reply()
    message_id = harness.api.last_message_id(sam.chat_id)
    from bot.conversation.choices import sign_choice

    forged = sign_choice(harness.runtime.keyring, f"ap:{kims}:no")
    sam.press_data(forged, message_id)
    await harness.pump()
    assert "older message" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        appointment = await session.get(Appointment, kims)
    assert appointment is not None and appointment.confirmation == "pending"


@pytest.mark.parametrize(
    "text", ["tomorrow", "2026-13-01T10:00", "", "2026-12-07 25:00", "١٠:٠٠", "'; DROP"]
)
def test_garbage_times_are_refused(text: str) -> None:
    from zoneinfo import ZoneInfo

    with pytest.raises(ValueError, match="is not a date and time"):
        parse_local_time(text, ZoneInfo("Europe/Amsterdam"))


def test_local_time_is_dst_correct() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Amsterdam")
    summer = parse_local_time("2026-07-01T10:00", zone)
    winter = parse_local_time("2026-12-01T10:00", zone)
    assert (summer.hour, winter.hour) == (8, 9)
