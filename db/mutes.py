"""Which staff member muted which participant's everyday messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Mute


async def is_muted(session: AsyncSession, staff_id: int, participant_id: int) -> bool:
    """Whether the staff member muted this participant."""
    found = await session.scalar(
        select(Mute.id).where(Mute.staff_id == staff_id, Mute.participant_id == participant_id)
    )
    return found is not None


async def toggle(session: AsyncSession, staff_id: int, participant_id: int, now: datetime) -> bool:
    """Mute, or unmute when muted; returns whether it is muted now."""
    if await is_muted(session, staff_id, participant_id):
        await session.execute(
            delete(Mute).where(Mute.staff_id == staff_id, Mute.participant_id == participant_id)
        )
        return False
    session.add(Mute(staff_id=staff_id, participant_id=participant_id, created_at=now))
    return True
