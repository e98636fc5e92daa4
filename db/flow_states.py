"""Where a person is in a flow: one row per participant or staff member and channel."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.cache import cache
from db.models import ConversationState


@dataclass(frozen=True)
class Owner:
    """Whose flow state: a participant or a staff member, on one channel."""

    participant_id: int | None = None
    staff_id: int | None = None
    channel: str = "telegram"

    @property
    def key(self) -> tuple[str, int, str]:
        """A hashable key for the transaction's cache."""
        if self.participant_id is not None:
            return ("participant", self.participant_id, self.channel)
        assert self.staff_id is not None, "a flow state belongs to someone"
        return ("staff", self.staff_id, self.channel)


def _where(owner: Owner) -> Any:
    if owner.participant_id is not None:
        matches = ConversationState.participant_id == owner.participant_id
    else:
        matches = ConversationState.staff_id == owner.staff_id
    return matches & (ConversationState.channel == owner.channel)


async def prefetch(session: AsyncSession, owners: Collection[Owner]) -> None:
    """Read the flow states of these people in one query for the updates that share this
    transaction; the rows found stay in the session, the others are known to be absent."""
    wanted = {owner.key: owner for owner in owners}
    participants = [o.participant_id for o in owners if o.participant_id is not None]
    staff = [o.staff_id for o in owners if o.staff_id is not None]
    found = await session.scalars(
        select(ConversationState).where(
            ConversationState.participant_id.in_(participants)
            | ConversationState.staff_id.in_(staff)
        )
    )
    present = {_key(state) for state in found.all()}
    cache(session).without_flow = set(wanted) - present


def _key(state: ConversationState) -> tuple[str, int, str]:
    if state.participant_id is not None:
        return ("participant", state.participant_id, state.channel)
    return ("staff", state.staff_id or 0, state.channel)


async def get(session: AsyncSession, owner: Owner) -> ConversationState | None:
    """The flow this person is in, if any."""
    absent = cache(session).without_flow
    if absent is not None and owner.key in absent:
        return None
    return await session.scalar(select(ConversationState).where(_where(owner)))


async def save(
    session: AsyncSession,
    owner: Owner,
    flow: str,
    step: str,
    token: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Remember where a person is in a flow (replacing any earlier flow)."""
    state = await get(session, owner)
    if state is None:
        absent = cache(session).without_flow
        if absent is not None:
            absent.discard(owner.key)
        session.add(
            ConversationState(
                participant_id=owner.participant_id,
                staff_id=owner.staff_id,
                channel=owner.channel,
                flow=flow,
                step=step,
                token=token,
                data=data,
                updated_at=now,
            )
        )
        await session.flush()
        return
    state.flow, state.step, state.token, state.data, state.updated_at = flow, step, token, data, now


async def clear(session: AsyncSession, owner: Owner) -> None:
    """The person finished or left their flow."""
    state = await get(session, owner)
    if state is not None:
        await session.delete(state)
        await session.flush()  # a flow started again in this transaction is a new row
        absent = cache(session).without_flow
        if absent is not None:
            absent.add(owner.key)
