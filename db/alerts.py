"""Alert queries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AlertStatus
from db.models import Alert


async def claim_escalation(session: AsyncSession, alert_id: int, now: datetime) -> bool:
    """Mark an alert escalated; False when another worker already did (so it goes once)."""
    result = await session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.escalated_at.is_(None), Alert.status == AlertStatus.OPEN)
        .values(escalated_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


async def recent_count(
    session: AsyncSession, participant_id: int, kind: str, since: datetime
) -> int:
    """How many alerts of a kind were raised about a participant since a moment."""
    count = await session.scalar(
        select(func.count()).where(
            Alert.participant_id == participant_id, Alert.kind == kind, Alert.created_at >= since
        )
    )
    return int(count or 0)


async def open_crisis(session: AsyncSession, since: datetime) -> set[int]:
    """Participants with a critical alert raised since a moment that nobody resolved."""
    rows = await session.scalars(
        select(Alert.participant_id)
        .where(
            Alert.severity == "critical",
            Alert.status != AlertStatus.RESOLVED,
            Alert.created_at >= since,
            Alert.participant_id.is_not(None),
        )
        .distinct()
    )
    return {int(participant_id) for participant_id in rows if participant_id is not None}
