"""Reminders with an injected clock: DST, skipped and late reminders, no duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.engine import scheduler
from bot.runtime import Runtime
from bot.services import appointments, reminders
from db.models import Alert, Appointment, OutboxItem, Participant, Reminder
from tests.clock import ManualClock

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY, TWO_HOURS = timedelta(days=1), timedelta(hours=2)


@pytest.mark.parametrize(
    ("appointment_local", "expected_local"),
    [
        # last Sunday of March 2026 (29th): clocks go 02:00 → 03:00
        ("2026-03-30T10:00", "2026-03-29T10:00"),
        ("2026-03-29T14:00", "2026-03-28T14:00"),
        # last Sunday of October 2026 (25th): clocks go 03:00 → 02:00
        ("2026-10-26T09:00", "2026-10-25T09:00"),
        ("2026-10-25T16:30", "2026-10-24T16:30"),
    ],
)
def test_day_before_keeps_the_local_time_across_dst(
    appointment_local: str, expected_local: str
) -> None:
    at = datetime.fromisoformat(appointment_local).replace(tzinfo=AMSTERDAM)
    due = appointments.reminder_time(at.astimezone(UTC), DAY, AMSTERDAM)
    assert due.astimezone(AMSTERDAM).replace(tzinfo=None) == datetime.fromisoformat(expected_local)


def test_hours_are_exact_durations_across_dst() -> None:
    at = datetime(2026, 3, 29, 3, 30, tzinfo=AMSTERDAM)  # 01:30 UTC, just after the switch
    due = appointments.reminder_time(at.astimezone(UTC), TWO_HOURS, AMSTERDAM)
    assert at.astimezone(UTC) - due == TWO_HOURS


async def _participant(rt: Runtime, status: str = "active") -> Participant:
    async with rt.sessions() as session, session.begin():
        participant = Participant(
            telegram_id=5_000_001,
            name="Test Deelnemer",
            language="nl",
            status=status,
            created_at=rt.clock.now(),
        )
        session.add(participant)
    return participant


async def _plan(rt: Runtime, participant: Participant, at: datetime) -> int:
    async with rt.sessions() as session, session.begin():
        made = await appointments.create(
            session,
            participant.id,
            at=at,
            with_org="UWV",
            location="Loket 3",
            note=None,
            offsets=[DAY, TWO_HOURS],
            now=rt.clock.now(),
            zone=AMSTERDAM,
        )
        return made.appointment.id


async def _reminder_rows(rt: Runtime) -> list[OutboxItem]:
    async with rt.sessions() as session:
        rows = await session.scalars(select(OutboxItem).where(OutboxItem.kind == "reminder"))
        return list(rows.all())


async def _statuses(rt: Runtime) -> list[str]:
    async with rt.sessions() as session:
        rows = await session.scalars(select(Reminder.status).order_by(Reminder.due_at))
        return list(rows.all())


async def test_reminders_go_out_on_time_once(runtime: Runtime) -> None:
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    participant = await _participant(runtime)
    at = clock.now() + timedelta(days=3)
    await _plan(runtime, participant, at)
    assert await scheduler.send_reminders(runtime) == 0
    clock.set(at - DAY - timedelta(seconds=1))
    assert await scheduler.send_reminders(runtime) == 0
    clock.advance(timedelta(seconds=1))
    assert await scheduler.send_reminders(runtime) == 1
    assert await scheduler.send_reminders(runtime) == 0  # a second tick sends nothing again
    clock.set(at - TWO_HOURS)
    assert await scheduler.send_reminders(runtime) == 1
    rows = await _reminder_rows(runtime)
    assert len(rows) == 2
    assert "UWV" in rows[0].payload["text"] and "Loket 3" in rows[0].payload["text"]
    assert await _statuses(runtime) == ["sent", "sent"]


async def test_offsets_already_past_are_skipped(runtime: Runtime) -> None:
    participant = await _participant(runtime)
    await _plan(runtime, participant, runtime.clock.now() + timedelta(hours=5))
    assert await _statuses(runtime) == ["pending"]  # only the 2h one


async def test_late_reminders_after_downtime(runtime: Runtime) -> None:
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    participant = await _participant(runtime)
    soon = clock.now() + timedelta(days=2)
    later = clock.now() + timedelta(days=2, hours=1)
    await _plan(runtime, participant, soon)
    await _plan(runtime, participant, later)
    clock.set(soon + timedelta(minutes=30))  # the bot was down across the first appointment
    assert await scheduler.send_reminders(runtime) == 1  # the later one's latest reminder
    statuses = await _statuses(runtime)
    assert statuses.count("dropped") == 3
    assert statuses.count("sent") == 1


async def test_moved_and_cancelled_appointments_update_reminders(runtime: Runtime) -> None:
    participant = await _participant(runtime)
    now = runtime.clock.now()
    first = await _plan(runtime, participant, now + timedelta(days=3))
    second = await _plan(runtime, participant, now + timedelta(days=4))
    async with runtime.sessions() as session, session.begin():
        await appointments.move(
            session,
            first,
            at=now + timedelta(days=5),
            offsets=[DAY, TWO_HOURS],
            now=now,
            zone=AMSTERDAM,
        )
        await appointments.cancel(session, second)
    async with runtime.sessions() as session:
        pending = (
            await session.scalars(select(Reminder).where(Reminder.status == "pending"))
        ).all()
    assert {r.appointment_id for r in pending} == {first}
    assert min(r.due_at for r in pending) == now + timedelta(days=4)


async def test_paused_participant_gets_no_reminder(runtime: Runtime) -> None:
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    participant = await _participant(runtime, status="paused")
    at = clock.now() + timedelta(days=2)
    await _plan(runtime, participant, at)
    clock.set(at - TWO_HOURS)
    assert await scheduler.send_reminders(runtime) == 0
    assert await _statuses(runtime) == ["dropped", "skipped"]  # catch-up drops the older one


async def test_no_answer_by_the_last_reminder_alerts_the_officer(runtime: Runtime) -> None:
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    participant = await _participant(runtime)
    at = clock.now() + timedelta(days=2)
    await _plan(runtime, participant, at)
    clock.set(at - DAY)
    await scheduler.send_reminders(runtime)
    async with runtime.sessions() as session:
        assert (await session.scalars(select(Alert))).all() == []
    clock.set(at - TWO_HOURS)
    await scheduler.send_reminders(runtime)
    async with runtime.sessions() as session:
        (alert,) = (await session.scalars(select(Alert))).all()
    assert alert.kind == "no_confirmation"


async def test_a_peak_of_reminders_starts_early_enough_that_none_is_late(
    runtime: Runtime,
) -> None:
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    count = 600  # due within one minute: 30 s of sending at the planned rate
    first_due = clock.now() + timedelta(hours=1)
    async with runtime.sessions() as session, session.begin():
        people = [
            Participant(
                telegram_id=5_100_000 + number,
                name=f"Deelnemer {number}",
                language="nl",
                status="active",
                created_at=clock.now(),
            )
            for number in range(count)
        ]
        session.add_all(people)
        await session.flush()
        for number, person in enumerate(people):
            due = first_due + timedelta(seconds=60 * number / count)
            appointment = Appointment(
                participant_id=person.id, at=due + TWO_HOURS, with_org="UWV", location="Loket 3"
            )
            session.add(appointment)
            await session.flush()
            session.add(
                Reminder(
                    appointment_id=appointment.id,
                    offset_seconds=int(TWO_HOURS.total_seconds()),
                    due_at=due,
                )
            )
    clock.set(first_due - reminders.MAX_LEAD - timedelta(minutes=5))
    assert await scheduler.send_reminders(runtime) == 0  # the peak is not in sight yet
    queued_at: dict[int, tuple[datetime, datetime]] = {}
    clock.set(first_due - timedelta(minutes=2))
    while clock.now() <= first_due + timedelta(minutes=2):
        await scheduler.send_reminders(runtime)
        async with runtime.sessions() as session:
            for reminder in (
                await session.scalars(select(Reminder).where(Reminder.status == "sent"))
            ).all():
                assert reminder.sent_at is not None
                queued_at.setdefault(reminder.id, (reminder.due_at, reminder.sent_at))
        clock.advance(timedelta(seconds=15))  # the scheduler tick
    assert len(queued_at) == count
    early = [(due - sent).total_seconds() for due, sent in queued_at.values()]
    assert min(early) >= -15  # never later than one scheduler tick, as without a peak
    assert max(early) <= reminders.MAX_LEAD.total_seconds()
    # spread out before the peak, not all at the first tick: a 600-row backlog at 20 a
    # second needs 30 s, so the first go about 30 s early and the last ones close to time
    assert 15 <= max(early) <= 60
    assert len(await _reminder_rows(runtime)) == count
