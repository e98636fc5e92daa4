"""The plan's year on a manual clock, end to end over the fake Bot API: enrolled in prison
with a plan, a reporting duty and a referral; the officer is reminded the day before the
release and the participant greeted on the morning; the first week shows the reporting
day; a task reminder the day before, *Done*, and the officer sees it; the officer is asked
whether the participant came; the weekly overview; overdue alerts for the participant's
and the officer's own tasks and for the referral without first contact; /tasks; and the
reporting duty ended, its later appointments cancelled. Each moment runs the scheduler's
whole tick, as the running bot does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest

from bot.engine import scheduler
from bot.services import conditions, enrolment, partners, plan, referrals, reporting
from bot.services.invites import create_invite
from db.models import Appointment, PlanTask
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness

RELEASE = date(2026, 12, 10)  # a Thursday, a week after the clock's start


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _at(h: Harness, year: int, month: int, day: int, hour: int, minute: int = 0) -> None:
    """Move the clock to a local moment and let the bot do what is due."""
    h.clock.set(datetime(year, month, day, hour, minute, tzinfo=h.runtime.settings.tz))
    await scheduler.tick(h.runtime)
    await h.pump()


def _new(user: TelegramUser, before: int, containing: str) -> list[str]:
    return [text for text in user.replies()[before:] if containing in text]


async def test_a_year_from_prison(h: Harness) -> None:
    officer = h.user("Officer")
    await h.add_staff(officer)
    zone = h.runtime.settings.tz
    now = h.clock.now()
    async with h.runtime.sessions() as session, session.begin():
        person = await enrolment.enrol(
            session, name="Test Deelnemer", release_date=RELEASE, now=now, zone=zone,
            default_language="nl", officer_telegram_id=officer.chat_id, language="en",
            facility="PI Voorbeeld",
        )  # fmt: skip
        pid = person.id
        task = await plan.add_task(
            session, pid, domain="housing", title="Bel de woningcorporatie", owner="participant",
            due=date(2026, 12, 14), now=now, zone=zone,
        )  # fmt: skip
        task_id = task.id
        partner = await partners.add(
            session, name="Schuldhulp Voorbeeld", domain="money", contact="Marloes", reach=None,
            now=now,
        )  # fmt: skip
        await referrals.add(session, pid, partner.id, now=now, zone=zone)
        duty, series = await conditions.add(
            session, pid, kind="reporting_duty", text="Wekelijks melden", now=now,
            starts_on=date(2026, 12, 15), ends_on=date(2027, 3, 30),
            schedule=reporting.parse_schedule(
                weekday="tue", at="10:00", every_weeks=None, with_org="Reclassering",
                place="Spoorstraat 1",
            ),
            zone=zone, offsets=h.runtime.settings.reminder_offsets,
        )  # fmt: skip
        duty_id, first_report = duty.id, series[0].id
        invite = await create_invite(
            session, now=now, valid_for=timedelta(days=30), participant_id=pid
        )

    await _at(h, 2026, 12, 9, 9)  # the day before the release
    assert _new(officer, 0, "Tomorrow Test Deelnemer is released from PI Voorbeeld")

    sam = h.user()
    sam.send(f"/start {invite.code}")
    await h.pump()
    sam.press("English")
    await h.pump()
    sam.press("Agree")
    await h.pump()
    welcome = sam.last_reply()
    assert "Your first week" in welcome and "Tuesday 15 December 10:00" in welcome
    assert "Bel de woningcorporatie" in welcome

    await _at(h, 2026, 12, 10, 8)  # release morning
    assert "first day outside" in sam.last_reply()

    seen = len(sam.replies())
    await _at(h, 2026, 12, 13, 10)  # Sunday: the task is due tomorrow
    [reminder] = _new(sam, seen, "due tomorrow")
    assert "Bel de woningcorporatie" in reminder

    await _at(h, 2026, 12, 13, 17)  # Sunday 17:00: the weekly overview
    [overview] = _new(sam, seen, "Your week in your plan")
    assert "Next for you:" in overview and "Bel de woningcorporatie" in overview

    sam.press("Done")
    await h.pump()
    officer.send("/plan Test Deelnemer")
    await h.pump()
    [line] = [row for row in officer.last_reply().splitlines() if "woningcorporatie" in row]
    assert line.endswith("done")

    asked = len(officer.replies())
    await _at(h, 2026, 12, 15, 11)  # an hour after the first reporting appointment
    assert _new(officer, asked, "Did Test Deelnemer come to the appointment with Reclassering")
    officer.press("Attended")
    await h.pump()

    await _at(h, 2026, 12, 17, 10)  # 10 working days after the referral
    assert _new(officer, asked, "No first contact from the partner")
    overdue = _new(officer, asked, "plan task is overdue")  # the address, due 13 December
    assert overdue and not any("woningcorporatie" in text for text in overdue)

    officer.send("/tasks")
    await h.pump()
    listed = officer.last_reply()
    assert "days late" in listed and "Schuldhulp Voorbeeld" in listed
    assert "Bel de woningcorporatie" not in listed  # done

    told = len(sam.replies())
    async with h.runtime.sessions() as session, session.begin():
        _ended, cancelled = await conditions.end(
            session, duty_id, on=date(2026, 12, 31), now=h.clock.now(), zone=zone
        )
    await h.pump()
    assert len(cancelled) == 13  # 5 January to 30 March
    assert _new(sam, told, "stop after 31 December")
    async with h.runtime.sessions() as session:
        first = await session.get(Appointment, first_report)
        done = await session.get(PlanTask, task_id)
    assert first is not None and first.attendance == "attended"
    assert done is not None and done.status == "done"
