"""Special conditions set by the court or probation: a reporting duty, a location or
contact ban, treatment. They are for staff: the officer reads them in /plan and the CLI;
the participant is never sent them by Oprit (the officer talks about them in person, never
as a threat in a chat). Everything about a condition is encrypted at rest.

A reporting duty with a schedule makes its recurring appointments (bot.services.reporting):
those the participant does see, as plain appointments with whom, when and where.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, day_label
from bot.services import reporting
from bot.services.plan import MAX_NOTES, PlanError, checked_text, local_today
from db import audit, people
from db import plans as plans_db
from db.models import Appointment, Condition

KINDS = ("reporting_duty", "location_ban", "contact_ban", "treatment", "other")
MAX_BY = 200


def kind_label(kind: str) -> str:
    """A condition's kind as staff read it."""
    return {
        # Translators: a special condition: report to probation or police at set times
        "reporting_duty": _("Reporting duty"),
        # Translators: a special condition: may not go to a place or area
        "location_ban": _("Location ban"),
        # Translators: a special condition: may not contact certain people
        "contact_ban": _("Contact ban"),
        "treatment": _("Treatment"),
        "other": _("Other condition"),
    }.get(kind, kind)


async def add(
    session: AsyncSession,
    participant_id: int,
    *,
    kind: str,
    text: str,
    now: datetime,
    imposed_by: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    schedule: reporting.Schedule | None = None,
    zone: tzinfo = UTC,
    offsets: Sequence[timedelta] = (),
) -> tuple[Condition, list[Appointment]]:
    """Record a condition; a reporting duty with a schedule also gets its appointments
    (every check before anything is written, and the caller's transaction undoes it all
    when the series cannot be made)."""
    participant = await people.participant_by_id(session, participant_id)
    if participant is None:
        raise PlanError(f"no participant with id {participant_id}")
    if kind not in KINDS:
        raise PlanError(f"unknown kind {kind[:40]!r}; use one of {', '.join(KINDS)}")
    kept_text = checked_text(text, "the text", MAX_NOTES, required=True)
    kept_by = checked_text(imposed_by, "--by", MAX_BY, required=False)
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise PlanError("the condition ends before it starts")
    if schedule is not None and kind != "reporting_duty":
        raise PlanError("only a reporting_duty has a schedule (--weekday, --time)")
    condition = Condition(
        participant_id=participant_id,
        kind=kind,
        text=kept_text or "",
        imposed_by=kept_by,
        starts_on=starts_on,
        ends_on=ends_on,
        created_at=now,
        schedule=schedule.as_json() if schedule else None,
    )
    session.add(condition)
    await session.flush()
    made: list[Appointment] = []
    if schedule is not None:
        made = await reporting.plan_series(
            session, condition, participant, schedule, now=now, zone=zone, offsets=list(offsets)
        )
    audit.add(
        session,
        "condition_added",
        actor="cli",
        participant_id=participant_id,
        detail={"condition_id": condition.id, "appointments": len(made)},
        at=now,
    )
    return condition, made


async def _condition(session: AsyncSession, condition_id: int) -> Condition:
    condition = await plans_db.condition_by_id(session, condition_id)
    if condition is None:
        raise PlanError(f"no condition with id {condition_id}")
    return condition


async def end(
    session: AsyncSession, condition_id: int, *, on: date | None, now: datetime, zone: tzinfo
) -> tuple[Condition, list[Appointment]]:
    """The condition ends on `on` (default today): its appointments after that day are
    cancelled. It can only end earlier than it did, never in the past."""
    condition = await _condition(session, condition_id)
    today = local_today(now, zone)
    last_day = today if on is None else on
    if last_day < today:
        raise PlanError("--on is in the past; a condition ends today or later")
    if condition.starts_on is not None and last_day < condition.starts_on:
        raise PlanError("the condition would end before it starts")
    if condition.ends_on is not None and condition.ends_on <= last_day:
        raise PlanError(f"the condition already ends on {condition.ends_on.isoformat()}")
    condition.ends_on = last_day
    cancelled = await reporting.cancel_series(
        session,
        condition,
        after=datetime.combine(last_day, time.max, tzinfo=zone),
        now=now,
        zone=zone,
        last_day=last_day,
    )
    audit.add(
        session,
        "condition_ended",
        actor="cli",
        participant_id=condition.participant_id,
        detail={"condition_id": condition.id, "cancelled": len(cancelled)},
        at=now,
    )
    return condition, cancelled


async def remove(
    session: AsyncSession, condition_id: int, *, now: datetime, zone: tzinfo
) -> list[Appointment]:
    """Delete a condition recorded by mistake or lifted: its appointments still ahead are
    cancelled; those past stay, with their attendance."""
    condition = await _condition(session, condition_id)
    cancelled = await reporting.cancel_series(
        session, condition, after=now, now=now, zone=zone, last_day=None
    )
    participant_id = condition.participant_id
    await session.delete(condition)
    await session.flush()
    audit.add(
        session,
        "condition_removed",
        actor="cli",
        participant_id=participant_id,
        detail={"condition_id": condition_id, "cancelled": len(cancelled)},
        at=now,
    )
    return cancelled


async def listed(session: AsyncSession, participant_id: int) -> Sequence[Condition]:
    """A participant's conditions."""
    if await people.participant_by_id(session, participant_id) is None:
        raise PlanError(f"no participant with id {participant_id}")
    return await plans_db.conditions_of(session, participant_id)


def condition_dict(condition: Condition) -> dict[str, Any]:
    """A condition for `oprit condition list --json` and the export."""
    return {
        "id": condition.id,
        "kind": condition.kind,
        "text": condition.text,
        "imposed_by": condition.imposed_by,
        "starts_on": condition.starts_on.isoformat() if condition.starts_on else None,
        "ends_on": condition.ends_on.isoformat() if condition.ends_on else None,
        "schedule": condition.schedule,
    }


def condition_line(condition: Condition) -> str:
    """One condition for the officer's /plan view."""
    line = f"⚖️ {kind_label(condition.kind)}: {condition.text}"
    if condition.ends_on is not None:
        line += " " + _("(until {date})").format(date=day_label(condition.ends_on))
    return line
