"""Staff queries used for routing alerts and checking who may see what."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import Role
from db.models import Staff


async def active_by_id(session: AsyncSession, staff_id: int) -> Staff | None:
    """An active staff member by Oprit id."""
    staff = await session.get(Staff, staff_id)
    return staff if staff is not None and staff.active else None


async def coordinators(session: AsyncSession) -> Sequence[Staff]:
    """Active coordinators."""
    return (
        await session.scalars(
            select(Staff).where(Staff.active.is_(True), Staff.role == Role.COORDINATOR)
        )
    ).all()


async def officers(session: AsyncSession) -> Sequence[Staff]:
    """Active officers."""
    return (
        await session.scalars(
            select(Staff).where(Staff.active.is_(True), Staff.role == Role.OFFICER)
        )
    ).all()


async def escalation_targets(session: AsyncSession) -> Sequence[Staff]:
    """Backup officers and coordinators: who hears about an alert nobody picked up."""
    return (
        await session.scalars(
            select(Staff).where(
                Staff.active.is_(True),
                or_(Staff.is_backup.is_(True), Staff.role == Role.COORDINATOR),
            )
        )
    ).all()


async def reachable_on_telegram(session: AsyncSession) -> Sequence[tuple[int, str]]:
    """Telegram id and language of every active staff member (for their command menu)."""
    rows = await session.execute(
        select(Staff.telegram_id, Staff.language).where(
            Staff.active.is_(True), Staff.telegram_id.is_not(None)
        )
    )
    return [(int(telegram_id), str(language)) for telegram_id, language in rows]
