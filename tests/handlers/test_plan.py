"""The plan through the real application against the fake Bot API: enrolled before
release, signed up with the linked invite (the welcome shows the first week and the plan),
*📋 My plan*, *Done* and *I need help with this*, the reminder the day before a task is
due, and the officer's alert when it is three days overdue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.engine import scheduler
from bot.services import (
    appointments,
    attendance,
    conditions,
    enrolment,
    partners,
    plan,
    referrals,
    reporting,
)
from bot.services.invites import create_invite
from bot.services.plan import PlanError
from db.enums import TaskStatus
from db.models import (
    Alert,
    Appointment,
    AuditEntry,
    Condition,
    HelpRequest,
    Message,
    PlanTask,
    Referral,
    Reminder,
)
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness

RELEASE = date(2026, 12, 10)  # a week after the clock's Thursday 3 December 2026


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _enrolled_and_signed_up(h: Harness, officer: TelegramUser) -> tuple[TelegramUser, int]:
    """Enrol, plan an appointment in the first week, and sign up through the buttons."""
    zone = h.runtime.settings.tz
    async with h.runtime.sessions() as session, session.begin():
        participant = await enrolment.enrol(
            session,
            name="Test Deelnemer",
            release_date=RELEASE,
            now=h.clock.now(),
            zone=zone,
            default_language="nl",
            officer_telegram_id=officer.chat_id,
            language="en",
        )
        await appointments.create(
            session,
            participant.id,
            at=datetime(2026, 12, 11, 14, 0, tzinfo=zone),
            with_org="Reclassering",
            location=None,
            note=None,
            offsets=[],
            now=h.clock.now(),
            zone=zone,
        )
        invite = await create_invite(
            session, now=h.clock.now(), valid_for=timedelta(days=30), participant_id=participant.id
        )
        pid = participant.id
    sam = h.user()
    sam.send(f"/start {invite.code}")
    await h.pump()
    sam.press("English")
    await h.pump()
    sam.press("Agree")
    await h.pump()
    return sam, pid


async def test_sign_up_shows_the_first_week_and_the_plan(harness: Harness) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    sam, _pid = await _enrolled_and_signed_up(harness, officer)
    welcome = sam.last_reply()
    assert "Your first week" in welcome and "Friday 11 December 14:00" in welcome
    assert "Reclassering" in welcome and "Get a valid ID card" in welcome
    keyboard = harness.api.sent_messages(sam.chat_id)[-2].params["reply_markup"]
    assert "📋 My plan" in str(keyboard)


async def test_my_plan_done_and_help(harness: Harness) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    sam, pid = await _enrolled_and_signed_up(harness, officer)
    sam.send("📋 My plan")
    await harness.pump()
    shown = sam.replies()[-6:]
    assert any("Register your address" in text for text in shown)
    assert not any("overview of debts" in text for text in shown)  # the officer's task
    sam.press("Done")  # the newest task shown
    await harness.pump()
    assert "marked it as done" in sam.last_reply()
    sam.press("I need help with this")
    await harness.pump()
    assert "H-0001" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        tasks = (await session.scalars(select(PlanTask).order_by(PlanTask.id))).all()
        request = (await session.scalars(select(HelpRequest))).one()
    assert sum(task.status == TaskStatus.DONE for task in tasks) == 1
    assert request.participant_id == pid and request.domain in plan.DOMAINS
    assert any("Help request H-0001" in text for text in officer.replies())


async def test_task_reminder_and_overdue_alert(harness: Harness, clock: ManualClock) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    sam, pid = await _enrolled_and_signed_up(harness, officer)
    zone = harness.runtime.settings.tz
    async with harness.runtime.sessions() as session, session.begin():
        task = await plan.add_task(
            session,
            pid,
            domain="housing",
            title="Bel de woningcorporatie",
            owner="participant",
            due=date(2026, 12, 5),
            now=clock.now(),
            zone=zone,
        )
        task_id = task.id
    await _at(harness, clock, datetime(2026, 12, 4, 10, 0, tzinfo=zone))
    assert "due tomorrow" in sam.last_reply() and "woningcorporatie" in sam.last_reply()
    await _at(
        harness, clock, datetime(2026, 12, 7, 23, 0, tzinfo=zone)
    )  # two days overdue: not yet
    assert not any("plan task is overdue" in text for text in officer.replies())
    await _at(harness, clock, datetime(2026, 12, 8, 0, 30, tzinfo=zone), ticks=2)
    async with harness.runtime.sessions() as session:
        alerts = (await session.scalars(select(Alert).where(Alert.kind == "task_overdue"))).all()
        stored = await session.get(PlanTask, task_id)
    assert len(alerts) == 1 and stored is not None and stored.overdue_alerted_at is not None
    assert any(
        "plan task is overdue" in text and "woningcorporatie" in text for text in officer.replies()
    )


async def test_other_peoples_and_forged_task_buttons(harness: Harness) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    sam, _pid = await _enrolled_and_signed_up(harness, officer)
    kim = harness.user("Kim")
    await harness.register(kim)
    sam.send("/plan")
    await harness.pump()
    message_id = harness.api.last_message_id(sam.chat_id)
    kim.press_data("pl:1:done:AAAAAAAA", message_id)  # forged: no valid signature
    await harness.pump()
    async with harness.runtime.sessions() as session:
        statuses = (await session.scalars(select(PlanTask.status))).all()
    assert set(statuses) == {"open"}


async def test_staff_see_the_plan_with_plan_name(harness: Harness) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    _sam, pid = await _enrolled_and_signed_up(harness, officer)
    async with harness.runtime.sessions() as session, session.begin():
        await conditions.add(
            session, pid, kind="contact_ban", text="Geen contact met X", now=harness.clock.now()
        )
    officer.send("/plan Test Deelnemer")
    await harness.pump()
    shown = officer.last_reply()
    assert "Plan of Test Deelnemer" in shown and "Release date: 10 December" in shown
    assert "Make an overview of debts" in shown and "officer" in shown
    assert "Contact ban: Geen contact met X" in shown
    officer.send("/plan 999")
    await harness.pump()
    assert "Plan of" not in officer.last_reply()
    officer.send("/plan")
    await harness.pump()
    assert "/plan NAME" in officer.last_reply()
    async with harness.runtime.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "plan_viewed" in actions and pid


async def test_the_officer_is_asked_whether_the_participant_came(
    harness: Harness, clock: ManualClock
) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    _sam, pid = await _enrolled_and_signed_up(harness, officer)
    zone = harness.runtime.settings.tz
    await _at(
        harness, clock, datetime(2026, 12, 11, 14, 59, tzinfo=zone)
    )  # the appointment was at 14:00
    assert not any("Did Test Deelnemer come" in text for text in officer.replies())
    await _at(harness, clock, datetime(2026, 12, 11, 15, 0, tzinfo=zone), ticks=2)
    asked = [text for text in officer.replies() if "Did Test Deelnemer come" in text]
    assert len(asked) == 1 and "Reclassering" in asked[0]
    officer.press("No-show")
    await harness.pump()
    assert "Noted for Test Deelnemer" in officer.last_reply()
    async with harness.runtime.sessions() as session:
        appointment = (await session.scalars(select(Appointment))).one()
    assert (appointment.participant_id, appointment.attendance) == (pid, "no-show")


async def test_a_backlog_of_attendance_questions_goes_a_batch_per_tick(
    harness: Harness, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first start on a large database finds thousands of unasked appointments: one
    tick asks only a batch (one short transaction, so the inbox keeps processing), the
    next ticks the rest, oldest first, and none is asked twice."""
    monkeypatch.setattr(attendance, "ASK_PER_TICK", 2)
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    _sam, pid = await _enrolled_and_signed_up(harness, officer)
    zone = harness.runtime.settings.tz
    async with harness.runtime.sessions() as session, session.begin():
        for hour in (9, 10, 11, 12):
            await appointments.create(
                session,
                pid,
                at=datetime(2026, 12, 11, hour, 0, tzinfo=zone),
                with_org="Reclassering",
                location=None,
                note=None,
                offsets=[],
                now=harness.clock.now(),
                zone=zone,
            )

    async def asked() -> int:
        async with harness.runtime.sessions() as session:
            return int(
                await session.scalar(
                    select(func.count()).where(Appointment.attendance_asked_at.is_not(None))
                )
                or 0
            )

    await _at(harness, clock, datetime(2026, 12, 11, 16, 0, tzinfo=zone))
    assert await asked() == 2
    await _at(harness, clock, datetime(2026, 12, 11, 16, 1, tzinfo=zone))
    assert await asked() == 4
    await _at(harness, clock, datetime(2026, 12, 11, 16, 2, tzinfo=zone), ticks=3)
    assert await asked() == 5
    questions = [text for text in officer.replies() if "Did Test Deelnemer come" in text]
    assert len(questions) == 5


async def test_another_officer_cannot_answer_for_someone_elses_participant(
    harness: Harness, clock: ManualClock
) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    other = harness.user("Other")
    await harness.add_staff(other, name="Officer Other")
    await _enrolled_and_signed_up(harness, officer)
    await _at(harness, clock, datetime(2026, 12, 11, 16, 0, tzinfo=harness.runtime.settings.tz))
    pressed = harness.api.sent_messages(officer.chat_id)[-1]
    data = pressed.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    other.press_data(data, harness.api.last_message_id(other.chat_id) or 1)
    await harness.pump()
    async with harness.runtime.sessions() as session:
        appointment = (await session.scalars(select(Appointment))).one()
    assert appointment.attendance is None


async def _at(h: Harness, clock: ManualClock, moment: datetime, ticks: int = 1) -> None:
    """Move the clock, run the scheduler's day planning (twice shows a moment is not
    handled again), and deliver what it queued."""
    clock.set(moment)
    for _ in range(ticks):
        await scheduler.plan_days(h.runtime)
    await h.pump()


async def _reporting_duty(h: Harness, pid: int, until: date | None) -> list[int]:
    """Weekly on Tuesday 10:00 from 15 December; returns the appointments' ids."""
    zone = h.runtime.settings.tz
    schedule = reporting.parse_schedule(
        weekday="tue", at="10:00", every_weeks=None, with_org="Reclassering", place="Spoorstraat 1"
    )
    async with h.runtime.sessions() as session, session.begin():
        _condition, made = await conditions.add(
            session,
            pid,
            kind="reporting_duty",
            text="Elke week melden bij de reclassering",
            now=h.clock.now(),
            starts_on=date(2026, 12, 15),
            ends_on=until,
            schedule=schedule,
            zone=zone,
            offsets=h.runtime.settings.reminder_offsets,
        )
    return [appointment.id for appointment in made]


async def test_a_reporting_duty_makes_weekly_appointments_with_reminders(
    harness: Harness, clock: ManualClock
) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    sam, pid = await _enrolled_and_signed_up(harness, officer)
    zone = harness.runtime.settings.tz
    made = await _reporting_duty(harness, pid, until=date(2027, 1, 12))
    await harness.pump()
    async with harness.runtime.sessions() as session:
        series = (await session.scalars(select(Appointment).where(Appointment.id.in_(made)))).all()
        reminders = (
            await session.scalars(select(Reminder).where(Reminder.appointment_id.in_(made)))
        ).all()
    days = sorted(a.at.astimezone(zone) for a in series)
    assert [d.date() for d in days] == [
        date(2026, 12, 15), date(2026, 12, 22), date(2026, 12, 29), date(2027, 1, 5),
        date(2027, 1, 12),
    ]  # fmt: skip
    assert {(d.hour, d.minute) for d in days} == {(10, 0)}
    assert len(reminders) == 2 * len(made)  # the day before and two hours before, each
    told = sam.last_reply()
    assert "You have a new appointment" in told and "Reclassering" in told
    assert "every week, until 12 January" in told
    assert "melden" not in told  # the condition's own words never reach the participant
    clock.set(datetime(2026, 12, 14, 10, 0, tzinfo=zone))
    await scheduler.send_reminders(harness.runtime)
    await harness.pump()
    assert "Reminder of your appointment" in sam.last_reply()
    assert "Spoorstraat 1" in sam.last_reply()
    await _at(harness, clock, datetime(2026, 12, 15, 11, 0, tzinfo=zone))
    assert any("Did Test Deelnemer come" in text for text in officer.replies())


async def test_ending_or_removing_a_reporting_duty_cancels_what_is_ahead(
    harness: Harness, clock: ManualClock
) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    sam, pid = await _enrolled_and_signed_up(harness, officer)
    zone = harness.runtime.settings.tz
    made = await _reporting_duty(harness, pid, until=None)  # until the guidance year ends
    assert len(made) == 52  # 15 Dec 2026 to 7 Dec 2027: a year after the release
    clock.set(datetime(2026, 12, 16, 9, 0, tzinfo=zone))
    async with harness.runtime.sessions() as session, session.begin():
        condition = (await session.scalars(select(Condition))).one()
        condition_id = condition.id
        _ended, cancelled = await conditions.end(
            session, condition_id, on=date(2026, 12, 29), now=clock.now(), zone=zone
        )
    assert len(cancelled) == 49  # 15, 22 and 29 December stay
    await harness.pump()
    assert "stop after 29 December" in sam.last_reply()
    async with harness.runtime.sessions() as session, session.begin():
        with pytest.raises(PlanError, match="in the past"):
            await conditions.end(
                session, condition_id, on=date(2026, 12, 1), now=clock.now(), zone=zone
            )
        with pytest.raises(PlanError, match="already ends"):
            await conditions.end(
                session, condition_id, on=date(2027, 3, 1), now=clock.now(), zone=zone
            )
        with pytest.raises(PlanError, match="no condition"):
            await conditions.remove(session, 999, now=clock.now(), zone=zone)
        cancelled = await conditions.remove(session, condition_id, now=clock.now(), zone=zone)
    assert len(cancelled) == 2  # 22 and 29 December; the 15th has passed and stays
    await harness.pump()
    assert "have stopped" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        left = (
            await session.scalars(
                select(Appointment).where(
                    Appointment.status == "scheduled", Appointment.id.in_(made)
                )
            )
        ).all()
        pending = await session.scalar(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.appointment_id.in_(made[1:]), Reminder.status == "pending")
        )
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert [a.id for a in left] == [made[0]] and left[0].condition_id is None
    assert pending == 0
    assert {"condition_added", "condition_ended", "condition_removed"} <= set(actions)


async def test_officer_and_partner_tasks_remind_and_alert_the_officer(
    harness: Harness, clock: ManualClock
) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    sam, pid = await _enrolled_and_signed_up(harness, officer)
    zone = harness.runtime.settings.tz
    async with harness.runtime.sessions() as session, session.begin():
        partner = await partners.add(
            session, name="Schuldhulp Voorbeeld", domain="money", contact="Marloes", reach=None,
            now=clock.now(),
        )  # fmt: skip
        for title, owner in (
            ("Huurachterstand uitzoeken", "officer"),
            ("Schuldenoverzicht maken", f"partner:{partner.id}"),
        ):
            await plan.add_task(
                session, pid, domain="money", title=title, owner=owner, due=date(2026, 12, 5),
                now=clock.now(), zone=zone,
            )  # fmt: skip
    before = len(sam.replies())
    await _at(harness, clock, datetime(2026, 12, 4, 9, 59, tzinfo=zone))
    assert not any("Tomorrow" in text for text in officer.replies())
    await _at(harness, clock, datetime(2026, 12, 4, 10, 0, tzinfo=zone), ticks=2)
    reminded = [text for text in officer.replies() if "⏰ Tomorrow" in text]
    assert len(reminded) == 2
    assert "your task in the plan of Test Deelnemer" in reminded[0]
    assert "Huurachterstand" in reminded[0] and f"/plan {pid}" in reminded[0]
    assert "a task of Schuldhulp Voorbeeld" in reminded[1] and "Check with them" in reminded[1]
    assert len(sam.replies()) == before  # staff tasks never remind the participant
    await _at(harness, clock, datetime(2026, 12, 8, 0, 30, tzinfo=zone), ticks=2)
    overdue = [text for text in officer.replies() if "task is overdue" in text]
    assert len(overdue) == 2
    assert "Your own plan task is overdue (💶 Money and debts)" in overdue[0]
    assert "A partner's plan task is overdue" in overdue[1]
    assert "Schuldenoverzicht maken (Schuldhulp Voorbeeld)" in overdue[1]


async def test_the_weekly_overview_says_what_moved_only_when_there_is_something(
    harness: Harness, clock: ManualClock
) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    sam, pid = await _enrolled_and_signed_up(harness, officer)
    kim = harness.user("Kim")
    await harness.register(kim)  # no plan at all: nothing to say
    zone = harness.runtime.settings.tz
    async with harness.runtime.sessions() as session, session.begin():
        tasks = (
            await session.scalars(select(PlanTask).where(PlanTask.participant_id == pid))
        ).all()
        officers_task = next(t for t in tasks if t.template == "probation")
        await plan.set_status(session, officers_task.id, TaskStatus.DONE, now=clock.now())
        await plan.add_task(
            session, pid, domain="housing", title="Bel de woningcorporatie", owner="participant",
            due=date(2026, 12, 9), now=clock.now(), zone=zone,
        )  # fmt: skip
    kim_before, sam_before = len(kim.replies()), len(sam.replies())
    clock.set(datetime(2026, 12, 6, 16, 59, tzinfo=zone))  # Sunday, a minute early
    await scheduler.send_prompts(harness.runtime)
    await harness.pump()
    assert len(sam.replies()) == sam_before
    clock.set(datetime(2026, 12, 6, 17, 0, tzinfo=zone))
    await scheduler.send_prompts(harness.runtime)
    await scheduler.send_prompts(harness.runtime)  # the slot goes out once
    await harness.pump()
    overviews = [text for text in sam.replies() if "Your week in your plan" in text]
    assert len(overviews) == 1
    overview = overviews[0]
    assert "Done this week: 1 task" in overview and "First appointment with probation" in overview
    assert "Next for you:" in overview and "Bel de woningcorporatie" in overview
    assert len(kim.replies()) == kim_before
    sam.send("/stop")  # paused: no automatic messages
    await harness.pump()
    sam.press("Yes, pause")
    await harness.pump()
    paused_count = len(sam.replies())
    clock.set(datetime(2026, 12, 13, 17, 0, tzinfo=zone))
    await scheduler.send_prompts(harness.runtime)
    await harness.pump()
    assert not any("Your week" in text for text in sam.replies()[paused_count:])


async def test_a_warm_introduction_to_a_partner(harness: Harness) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    sam, pid = await _enrolled_and_signed_up(harness, officer)
    zone = harness.runtime.settings.tz
    async with harness.runtime.sessions() as session, session.begin():
        with_contact = await partners.add(
            session, name="Schuldhulp Voorbeeld", domain="money", contact="Marloes", reach=None,
            now=harness.clock.now(),
        )  # fmt: skip
        without = await partners.add(
            session, name="Woonstichting Voorbeeld", domain="housing", contact=None, reach=None,
            now=harness.clock.now(),
        )  # fmt: skip
        await referrals.add(
            session, pid, with_contact.id, now=harness.clock.now(), zone=zone, introduce=True
        )
    await harness.pump()
    said = sam.last_reply()
    assert "Marloes from Schuldhulp Voorbeeld will contact you this week" in said
    assert "Money and debts" in said and "Your officer arranged this" in said
    async with harness.runtime.sessions() as session, session.begin():
        await referrals.add(session, pid, without.id, now=harness.clock.now(), zone=zone)
    await harness.pump()
    assert sam.last_reply() == said  # no --introduce: nothing sent
    async with harness.runtime.sessions() as session, session.begin():
        await referrals.add(
            session, pid, without.id, now=harness.clock.now(), zone=zone, introduce=True
        )
    await harness.pump()
    assert "Someone from Woonstichting Voorbeeld will contact you" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        stored = (
            await session.scalars(
                select(Message).where(Message.participant_id == pid, Message.direction == "out")
            )
        ).all()
    assert sum("will contact you this week" in (m.text or "") for m in stored) == 2


async def test_an_introduction_needs_a_participant_in_the_chat(harness: Harness) -> None:
    zone = harness.runtime.settings.tz
    async with harness.runtime.sessions() as session, session.begin():
        participant = await enrolment.enrol(
            session, name="Test Gedetineerde", release_date=RELEASE, now=harness.clock.now(),
            zone=zone, default_language="nl",
        )  # fmt: skip
        partner = await partners.add(
            session, name="Schuldhulp Voorbeeld", domain="money", contact="Marloes", reach=None,
            now=harness.clock.now(),
        )  # fmt: skip
        pid, partner_id = participant.id, partner.id
    with pytest.raises(PlanError, match="cannot be reached"):
        async with harness.runtime.sessions() as session, session.begin():
            await referrals.add(
                session, pid, partner_id, now=harness.clock.now(), zone=zone, introduce=True
            )
    async with harness.runtime.sessions() as session:
        assert (await session.scalars(select(Referral))).all() == []
