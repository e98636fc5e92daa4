"""Queries about people: staff, participants and invites."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState

from db.models import AuditEntry, Invite, Participant, Staff

# Set by `prefetch` in `session.info`.
PREFETCHED = "oprit_people_prefetched"


class Prefetched(NamedTuple):
    """The Telegram ids looked up, and the active staff and participants found for them."""

    telegram_ids: set[int]
    staff: dict[int, Staff]
    participants: dict[int, Participant]


async def prefetch(session: AsyncSession, telegram_ids: Collection[int]) -> None:
    """Look up the staff and participants behind these Telegram ids in two queries, for the
    updates that share this transaction (bot.inbox): two look-ups per update were half of
    an update's queries. Answers then come from the same transaction, so they are as fresh
    as a query would be."""
    wanted = set(telegram_ids)
    staff = await session.scalars(
        select(Staff).where(Staff.telegram_id.in_(wanted), Staff.active.is_(True))
    )
    participants = await session.scalars(
        select(Participant).where(Participant.telegram_id.in_(wanted))
    )
    session.info[PREFETCHED] = Prefetched(
        wanted,
        {member.telegram_id: member for member in staff.all()},
        {person.telegram_id: person for person in participants.all() if person.telegram_id},
    )


def _current(row: Staff | Participant) -> bool:
    state: InstanceState[Staff | Participant] = inspect(row)
    return not (state.deleted or state.was_deleted or state.detached)


async def staff_by_telegram_id(session: AsyncSession, telegram_id: int) -> Staff | None:
    """The active staff member with this Telegram id, read from the database in this
    transaction (staff are only added and removed by `oprit staff`, never by an update)."""
    known: Prefetched | None = session.info.get(PREFETCHED)
    if known is not None and telegram_id in known.telegram_ids:
        member = known.staff.get(telegram_id)
        if member is None or (_current(member) and member.active):
            return member
    return await session.scalar(
        select(Staff).where(Staff.telegram_id == telegram_id, Staff.active.is_(True))
    )


async def all_staff(session: AsyncSession) -> Sequence[Staff]:
    """Every staff member, active first."""
    return (await session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.id))).all()


async def participant_by_telegram_id(session: AsyncSession, telegram_id: int) -> Participant | None:
    """The participant using this Telegram account, if any (a prefetched one only while it
    still is: an update may have registered someone new, which only a query finds)."""
    known: Prefetched | None = session.info.get(PREFETCHED)
    if known is not None:
        person = known.participants.get(telegram_id)
        if person is not None and _current(person) and person.telegram_id == telegram_id:
            return person
    return await session.scalar(select(Participant).where(Participant.telegram_id == telegram_id))


async def participant_by_id(session: AsyncSession, participant_id: int) -> Participant | None:
    """A participant by their Oprit id."""
    return await session.get(Participant, participant_id)


async def invite_by_code_hash(session: AsyncSession, code_hash: str) -> Invite | None:
    """The invite a code belongs to."""
    return await session.scalar(select(Invite).where(Invite.code_hash == code_hash))


async def claim_invite(
    session: AsyncSession, invite_id: int, participant_id: int, now: datetime
) -> bool:
    """Mark an invite used, atomically: False when someone else used it first."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.used_at.is_(None))
        .values(used_at=now, participant_id=participant_id)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def count_audit(
    session: AsyncSession, action: str, actor_telegram_id: int | None, since: datetime
) -> int:
    """How often an action happened since a moment (for lockouts and rate limits)."""
    query = select(func.count()).where(AuditEntry.action == action, AuditEntry.at >= since)
    if actor_telegram_id is not None:
        query = query.where(AuditEntry.actor_telegram_id == actor_telegram_id)
    return int(await session.scalar(query) or 0)


async def last_audit_at(
    session: AsyncSession, action: str, actor_telegram_id: int
) -> datetime | None:
    """When an action by this actor last happened."""
    return await session.scalar(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.action == action, AuditEntry.actor_telegram_id == actor_telegram_id
        )
    )


def audit(
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


async def staff_including_inactive(session: AsyncSession, telegram_id: int) -> Staff | None:
    """A staff row whether or not it is active (to re-activate on `staff add`)."""
    return await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))


async def audit_since(session: AsyncSession, since: datetime | None) -> Sequence[AuditEntry]:
    """Audit lines, oldest first."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return (await session.scalars(query)).all()
