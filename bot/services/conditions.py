"""Special conditions set by the court or probation: a reporting duty, a location or
contact ban, treatment. They are for staff: the officer reads them in /plan and the CLI;
the participant is never sent them by Oprit (the officer talks about them in person, never
as a threat in a chat). Everything about a condition is encrypted at rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, day_label
from bot.services.plan import MAX_NOTES, PlanError, checked_text
from db import audit, people
from db import plans as plans_db
from db.models import Condition

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
) -> Condition:
    """Record a condition (every check before anything is written)."""
    if await people.participant_by_id(session, participant_id) is None:
        raise PlanError(f"no participant with id {participant_id}")
    if kind not in KINDS:
        raise PlanError(f"unknown kind {kind[:40]!r}; use one of {', '.join(KINDS)}")
    kept_text = checked_text(text, "the text", MAX_NOTES, required=True)
    kept_by = checked_text(imposed_by, "--by", MAX_BY, required=False)
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise PlanError("the condition ends before it starts")
    condition = Condition(
        participant_id=participant_id,
        kind=kind,
        text=kept_text or "",
        imposed_by=kept_by,
        starts_on=starts_on,
        ends_on=ends_on,
        created_at=now,
    )
    session.add(condition)
    await session.flush()
    audit.add(
        session,
        "condition_added",
        actor="cli",
        participant_id=participant_id,
        detail={"condition_id": condition.id},
        at=now,
    )
    return condition


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
    }


def condition_line(condition: Condition) -> str:
    """One condition for the officer's /plan view."""
    line = f"⚖️ {kind_label(condition.kind)}: {condition.text}"
    if condition.ends_on is not None:
        line += " " + _("(until {date})").format(date=day_label(condition.ends_on))
    return line
