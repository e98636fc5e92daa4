"""The audit log: who did what to whose data, without content."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry


async def count(
    session: AsyncSession, action: str, actor_telegram_id: int | None, since: datetime
) -> int:
    """How often an action happened since a moment (for lockouts and rate limits)."""
    query = select(func.count()).where(AuditEntry.action == action, AuditEntry.at >= since)
    if actor_telegram_id is not None:
        query = query.where(AuditEntry.actor_telegram_id == actor_telegram_id)
    return int(await session.scalar(query) or 0)


async def last_at(session: AsyncSession, action: str, actor_telegram_id: int) -> datetime | None:
    """When an action by this actor last happened."""
    return await session.scalar(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.action == action, AuditEntry.actor_telegram_id == actor_telegram_id
        )
    )


def add(
    session: AsyncSession,
    action: str,
    *,
    actor: str,
    actor_telegram_id: int | None = None,
    participant_id: int | None = None,
    detail: Mapping[str, object] | None = None,
    at: datetime,
) -> None:
    """Add an audit line (ids and facts only, never content)."""
    session.add(
        AuditEntry(
            action=action,
            actor=actor,
            actor_telegram_id=actor_telegram_id,
            participant_id=participant_id,
            detail=dict(detail) if detail is not None else None,
            at=at,
        )
    )


async def since(session: AsyncSession, since: datetime | None) -> Sequence[AuditEntry]:
    """Audit lines, oldest first."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return (await session.scalars(query)).all()
