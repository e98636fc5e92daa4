"""What happens when a staff member writes to the bot: they are reachable from now on,
and the first contact from a new staff id is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db import audit
from db.models import Staff


def first_contact(session: AsyncSession, staff: Staff, now: datetime) -> None:
    """Mark the staff member reachable; audit the first time they open the bot."""
    if staff.reachable is None:
        audit.add(
            session,
            "staff_first_contact",
            actor="staff",
            actor_telegram_id=staff.telegram_id,
            detail={"staff_id": staff.id},
            at=now,
        )
    staff.reachable = True
    staff.unreachable_notice_sent = False
