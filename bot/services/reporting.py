"""A reporting duty's recurring appointments.

A reporting duty ("report to probation every Tuesday at 10:00") is a condition with a
schedule. Oprit turns the schedule into ordinary appointments, one per reporting day until
the condition ends (or the guidance year ends, a year after release), so the appointment
reminders, the *I'll be there* buttons and the officer's attendance question apply to each.
Ending or removing the condition cancels the appointments still ahead.

The participant reads an appointment like any other: with whom, when and where. The
condition's own text is never sent to them, and nothing in what they read is a threat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.replies import Reply
from bot.i18n import _, day_label, ngettext, use_language
from bot.services import appointments
from bot.services.plan import PlanError, checked_text
from db import people
from db import plans as plans_db
from db.models import Appointment, Condition, Participant

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_EVERY_WEEKS = 52
GUIDANCE_DAYS = 365  # the guidance runs until a year after release
# `tue` or `tuesday` (English, like the check-in schedule's `mon,thu`).
_DAY_NAMES = {
    name: index
    for index, full in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
    for name in (WEEKDAYS[index], full)
}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Schedule:
    """When and where the participant reports: a weekday and time, every N weeks."""

    weekday: int  # Monday is 0
    at: time
    every_weeks: int
    with_org: str
    place: str | None

    def as_json(self) -> dict[str, Any]:
        """How the condition keeps it (encrypted) and `--json` shows it."""
        return {
            "weekday": WEEKDAYS[self.weekday],
            "time": self.at.strftime("%H:%M"),
            "every_weeks": self.every_weeks,
            "with": self.with_org,
            "place": self.place,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        """The schedule a condition kept."""
        hour, minute = (int(part) for part in str(data["time"]).split(":"))
        return cls(
            weekday=WEEKDAYS.index(data["weekday"]),
            at=time(hour, minute),
            every_weeks=int(data["every_weeks"]),
            with_org=str(data["with"]),
            place=data.get("place"),
        )


def parse_schedule(
    *,
    weekday: str | None,
    at: str | None,
    every_weeks: int | None,
    with_org: str | None,
    place: str | None,
) -> Schedule | None:
    """The schedule from the command line, None when no part of it was given; any part
    given needs the weekday, the time and with whom."""
    if weekday is None and at is None and every_weeks is None and with_org is None and not place:
        return None
    if weekday is None or at is None or with_org is None:
        raise PlanError("a reporting schedule needs --weekday, --time and --report-to")
    day = _DAY_NAMES.get(weekday.strip().lower())
    if day is None:
        raise PlanError(f"--weekday: {weekday[:40]!r} is not one of {', '.join(WEEKDAYS)}")
    matched = _TIME.match(at.strip())
    if matched is None:
        raise PlanError(f"--time: {at[:40]!r} is not a time like 10:00")
    every = 1 if every_weeks is None else every_weeks
    if not 1 <= every <= MAX_EVERY_WEEKS:
        raise PlanError(f"--every-weeks must be a number from 1 to {MAX_EVERY_WEEKS}")
    return Schedule(
        weekday=day,
        at=time(int(matched.group(1)), int(matched.group(2))),
        every_weeks=every,
        with_org=checked_text(with_org, "--report-to", appointments.MAX_FIELD, required=True) or "",
        place=checked_text(place, "--place", appointments.MAX_FIELD, required=False),
    )


def guidance_end(participant: Participant, zone: tzinfo) -> date:
    """The last day of the guidance: a year after release (or after sign-up when there is
    no release date)."""
    start = participant.release_date or participant.created_at.astimezone(zone).date()
    return start + timedelta(days=GUIDANCE_DAYS)


def reporting_times(
    schedule: Schedule, *, first_day: date, last_day: date, now: datetime, zone: tzinfo
) -> list[datetime]:
    """Every reporting moment from `first_day` to `last_day` (both included) that is still
    ahead, in UTC; the clock time is local, so it stays 10:00 across a DST change."""
    day = first_day + timedelta(days=(schedule.weekday - first_day.weekday()) % 7)
    step = timedelta(weeks=schedule.every_weeks)
    moments = []
    while day <= last_day:
        moment = datetime.combine(day, schedule.at, tzinfo=zone).astimezone(UTC)
        if moment > now:
            moments.append(moment)
        day += step
    return moments


async def plan_series(
    session: AsyncSession,
    condition: Condition,
    participant: Participant,
    schedule: Schedule,
    *,
    now: datetime,
    zone: tzinfo,
    offsets: list[timedelta],
) -> list[Appointment]:
    """Make the appointments of a new reporting duty with their reminders, and tell the
    participant once about the first (a message per week would be noise)."""
    today = now.astimezone(zone).date()
    if condition.ends_on is not None and condition.ends_on < today:
        raise PlanError("--until is in the past: a reporting duty that ended has no appointments")
    # Nobody reports from inside: the series starts at the release at the earliest.
    first_day = max(condition.starts_on or today, today, participant.release_date or today)
    end = guidance_end(participant, zone)
    last_day = min(condition.ends_on, end) if condition.ends_on else end
    moments = reporting_times(schedule, first_day=first_day, last_day=last_day, now=now, zone=zone)
    if not moments:
        raise PlanError(
            f"no reporting day falls between {first_day} and {last_day} "
            "(the end of the condition or of the guidance year)"
        )
    made = []
    for moment in moments:
        appointment = (
            await appointments.create(
                session,
                participant.id,
                at=moment,
                with_org=schedule.with_org,
                location=schedule.place,
                note=None,
                offsets=offsets,
                now=now,
                zone=zone,
            )
        ).appointment
        appointment.condition_id = condition.id
        made.append(appointment)
    await session.flush()
    with use_language(participant.language):
        footer = _series_line(schedule.every_weeks, made[-1].at.astimezone(zone).date())
    await appointments.tell_participant(
        session, made[0], appointments.Change.PLANNED, zone=zone, now=now, footer=footer
    )
    return made


def _series_line(every_weeks: int, last: date) -> str:
    """For the participant: that the appointment comes back, and until when."""
    if every_weeks == 1:
        # Translators: under a new appointment that is one of a weekly series
        return _("This appointment is every week, until {date}.").format(date=day_label(last))
    return ngettext(
        "This appointment is every {count} week, until {date}.",
        "This appointment is every {count} weeks, until {date}.",
        every_weeks,
    ).format(count=every_weeks, date=day_label(last))


async def cancel_series(
    session: AsyncSession,
    condition: Condition,
    *,
    after: datetime,
    now: datetime,
    zone: tzinfo,
    last_day: date | None,
) -> list[Appointment]:
    """Cancel the condition's planned appointments after `after` (their reminders too) and
    tell the participant once that they need not come any more."""
    cancelled = []
    for appointment in await plans_db.planned_series(session, condition.id, after):
        cancelled.append(await appointments.cancel(session, appointment.id))
    if not cancelled or condition.schedule is None:
        return cancelled
    participant = await people.participant_by_id(session, condition.participant_id)
    if participant is not None and appointments.reachable(participant):
        organisation = Schedule.from_json(condition.schedule).with_org
        with use_language(participant.language):
            if last_day is None:
                text = _(
                    "Your regular appointments with {organisation} have stopped. "
                    "You do not have to go any more."
                ).format(organisation=organisation)
            else:
                text = _(
                    "Your regular appointments with {organisation} stop after {date}. "
                    "You do not have to go after that day."
                ).format(organisation=organisation, date=day_label(last_day))
        outbox.to_participant(
            session,
            participant,
            [Reply(text)],
            now=now,
            kind="appointment",
            priority=outbox.PRIORITY_REPLY,
        )
    return cancelled
