"""The plan through the real application against the fake Bot API: enrolled before
release, signed up with the linked invite (the welcome shows the first week and the plan),
*📋 My plan*, *Done* and *I need help with this*, the reminder the day before a task is
due, and the officer's alert when it is three days overdue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.engine import scheduler
from bot.services import appointments, conditions, enrolment, plan
from bot.services.invites import create_invite
from db.enums import TaskStatus
from db.models import Alert, Appointment, AuditEntry, HelpRequest, PlanTask
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
    clock.set(datetime(2026, 12, 4, 10, 0, tzinfo=zone))
    await scheduler.plan_days(harness.runtime)
    await harness.pump()
    assert "due tomorrow" in sam.last_reply() and "woningcorporatie" in sam.last_reply()
    clock.set(datetime(2026, 12, 7, 23, 0, tzinfo=zone))  # two days overdue: not yet
    await scheduler.plan_days(harness.runtime)
    await harness.pump()
    assert not any("plan task is overdue" in text for text in officer.replies())
    clock.set(datetime(2026, 12, 8, 0, 30, tzinfo=zone))
    await scheduler.plan_days(harness.runtime)
    await scheduler.plan_days(harness.runtime)
    await harness.pump()
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
    clock.set(datetime(2026, 12, 11, 14, 59, tzinfo=zone))  # the appointment was at 14:00
    await scheduler.plan_days(harness.runtime)
    await harness.pump()
    assert not any("Did Test Deelnemer come" in text for text in officer.replies())
    clock.set(datetime(2026, 12, 11, 15, 0, tzinfo=zone))
    await scheduler.plan_days(harness.runtime)
    await scheduler.plan_days(harness.runtime)
    await harness.pump()
    asked = [text for text in officer.replies() if "Did Test Deelnemer come" in text]
    assert len(asked) == 1 and "Reclassering" in asked[0]
    officer.press("No-show")
    await harness.pump()
    assert "Noted for Test Deelnemer" in officer.last_reply()
    async with harness.runtime.sessions() as session:
        appointment = (await session.scalars(select(Appointment))).one()
    assert (appointment.participant_id, appointment.attendance) == (pid, "no-show")


async def test_another_officer_cannot_answer_for_someone_elses_participant(
    harness: Harness, clock: ManualClock
) -> None:
    officer = harness.user("Officer")
    await harness.add_staff(officer)
    other = harness.user("Other")
    await harness.add_staff(other, name="Officer Other")
    await _enrolled_and_signed_up(harness, officer)
    clock.set(datetime(2026, 12, 11, 16, 0, tzinfo=harness.runtime.settings.tz))
    await scheduler.plan_days(harness.runtime)
    await harness.pump()
    pressed = harness.api.sent_messages(officer.chat_id)[-1]
    data = pressed.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    other.press_data(data, harness.api.last_message_id(other.chat_id) or 1)
    await harness.pump()
    async with harness.runtime.sessions() as session:
        appointment = (await session.scalars(select(Appointment))).one()
    assert appointment.attendance is None
