"""Check-in queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import ParticipantStatus
from db.models import Checkin, Participant


async def open_checkin(session: AsyncSession, participant_id: int) -> Checkin | None:
    """The participant's latest check-in that is prompted or half-way, if any."""
    return await session.scalar(
        select(Checkin)
        .where(
            Checkin.participant_id == participant_id,
            Checkin.status.in_(("prompted", "in_progress")),
        )
        .order_by(Checkin.id.desc())
        .limit(1)
    )


async def active_participants(session: AsyncSession) -> Sequence[Participant]:
    """Participants who get scheduled prompts (not paused, not mid-registration)."""
    return (
        await session.scalars(
            select(Participant)
            .where(Participant.status == ParticipantStatus.ACTIVE)
            .order_by(Participant.id)
        )
    ).all()


async def unanswered_prompts(
    session: AsyncSession, participant_id: int, before: datetime
) -> Sequence[Checkin]:
    """Prompts sent before a moment that were never completed."""
    return (
        await session.scalars(
            select(Checkin).where(
                Checkin.participant_id == participant_id,
                Checkin.status.in_(("prompted", "in_progress")),
                Checkin.prompted_at.is_not(None),
                Checkin.prompted_at < before,
            )
        )
    ).all()
