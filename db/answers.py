"""Answers to short question flows (one table for all of them: a flow that only asks
something needs no table of its own)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Answer


async def answered(session: AsyncSession, participant_id: int, flow: str, question: str) -> bool:
    """Whether the participant already answered this question of this flow."""
    found = await session.scalar(
        select(Answer.id).where(
            Answer.participant_id == participant_id,
            Answer.flow == flow,
            Answer.question == question,
        )
    )
    return found is not None


def add(
    session: AsyncSession, participant_id: int, flow: str, question: str, value: str, at: datetime
) -> None:
    """Store one answer."""
    session.add(
        Answer(participant_id=participant_id, flow=flow, question=question, value=value, at=at)
    )
