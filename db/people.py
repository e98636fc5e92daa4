"""Queries about people: staff, participants and invites."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstanceState

from db.cache import cache
from db.enums import Channel
from db.models import Invite, Participant, Staff


async def prefetch(
    session: AsyncSession, telegram_ids: Collection[int]
) -> tuple[list[Staff], list[Participant]]:
    """Look up the staff and participants behind these Telegram ids in two queries for all
    the updates that share this transaction (bot.engine.inbox), instead of two per update.
    Answers then come from the same transaction, so they are as fresh as a query would
    be. Returns what was found."""
    wanted = set(telegram_ids)
    staff = await session.scalars(
        select(Staff).where(Staff.telegram_id.in_(wanted), Staff.active.is_(True))
    )
    participants = await session.scalars(
        select(Participant).where(Participant.telegram_id.in_(wanted))
    )
    known = cache(session)
    known.looked_up = wanted
    known.staff = {member.telegram_id: member for member in staff.all()}
    known.participants = {
        person.telegram_id: person for person in participants.all() if person.telegram_id
    }
    return list(known.staff.values()), list(known.participants.values())


def _current(row: Staff | Participant) -> bool:
    state: InstanceState[Staff | Participant] = inspect(row)
    return not (state.deleted or state.was_deleted or state.detached)


async def staff_by_telegram_id(session: AsyncSession, telegram_id: int) -> Staff | None:
    """The active staff member with this Telegram id, read from the database in this
    transaction (staff are only added and removed by `oprit staff`, never by an update)."""
    known = cache(session)
    if known.looked_up is not None and telegram_id in known.looked_up:
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
    known = cache(session)
    if known.looked_up is not None:
        person = known.participants.get(telegram_id)
        if person is not None and _current(person) and person.telegram_id == telegram_id:
            return person
    return await session.scalar(select(Participant).where(Participant.telegram_id == telegram_id))


async def participant_by_address(
    session: AsyncSession, channel: str, address: int | str
) -> Participant | None:
    """The participant a channel's sender address belongs to (Telegram: their user id)."""
    if channel == Channel.TELEGRAM:
        return await participant_by_telegram_id(session, int(address))
    return await session.scalar(
        select(Participant).where(
            Participant.channel == channel, Participant.address == str(address)
        )
    )


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


async def staff_including_inactive(session: AsyncSession, telegram_id: int) -> Staff | None:
    """A staff row whether or not it is active (to re-activate on `staff add`)."""
    return await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))
