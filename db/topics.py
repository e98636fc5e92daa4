"""Forum topics: one per participant, created exactly once even with several workers."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Participant

MINE = -1  # returned by claim_topic_creation when this caller must create the topic
_CREATING = 0  # stored while a worker creates the topic


async def claim_topic_creation(session: AsyncSession, participant_id: int) -> int | None:
    """MINE when this caller must create the topic; otherwise the stored topic id
    (0 or None while another worker is creating it)."""
    result = await session.execute(
        update(Participant)
        .where(Participant.id == participant_id, Participant.forum_topic_id.is_(None))
        .values(forum_topic_id=_CREATING)
    )
    if getattr(result, "rowcount", 0) == 1:
        return MINE
    participant = await session.get(Participant, participant_id, populate_existing=True)
    return participant.forum_topic_id if participant else None


async def set_topic(session: AsyncSession, participant_id: int, thread_id: int) -> None:
    """Remember the created topic."""
    await session.execute(
        update(Participant).where(Participant.id == participant_id).values(forum_topic_id=thread_id)
    )


async def release_topic_creation(session: AsyncSession, participant_id: int) -> None:
    """Creating failed: let the next attempt try again."""
    await session.execute(
        update(Participant)
        .where(Participant.id == participant_id, Participant.forum_topic_id == _CREATING)
        .values(forum_topic_id=None)
    )


async def forget_topic(session: AsyncSession, participant_id: int | None) -> None:
    """Staff deleted the topic: the next message creates a new one."""
    if participant_id is None:
        return
    await session.execute(
        update(Participant).where(Participant.id == participant_id).values(forum_topic_id=None)
    )


def title_for(participant: Participant) -> str:
    """The topic name: the participant's name and number."""
    return f"{participant.name} #{participant.id}"[:128]


async def participant_by_topic(session: AsyncSession, thread_id: int) -> Participant | None:
    """The participant whose forum topic this is."""
    if thread_id <= 0:
        return None
    return await session.scalar(select(Participant).where(Participant.forum_topic_id == thread_id))
