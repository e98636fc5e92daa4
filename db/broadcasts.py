"""Broadcast queries: recipients, delivery rows, the delivery report, and the status
changes (start, finish, cancel) that each happen once, whoever tries them at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import Action, BroadcastStatus
from db.models import Broadcast, OutboxItem, Participant
from db.outbox import note_queued

DELIVERY_CHUNK = 250
# A planned broadcast a coordinator called off before it started.
# TODO(enums): BroadcastStatus.CANCELLED once db/enums.py has it.
CANCELLED = "cancelled"


async def due(session: AsyncSession, now: datetime) -> Sequence[Broadcast]:
    """Scheduled broadcasts whose time has come."""
    return (
        await session.scalars(
            select(Broadcast).where(
                Broadcast.status == BroadcastStatus.SCHEDULED, Broadcast.send_at <= now
            )
        )
    ).all()


async def claim(session: AsyncSession, broadcast_id: int) -> bool:
    """Start a broadcast exactly once (scheduled → sending)."""
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.SCHEDULED)
        .values(status=BroadcastStatus.SENDING)
    )
    return getattr(result, "rowcount", 0) == 1


class Recipient(NamedTuple):
    """What a broadcast needs of a participant (not their name: nothing to decrypt)."""

    id: int
    telegram_id: int | None
    language: str
    status: str
    channel: str
    address: str | None


RECIPIENT_STATUSES = ("active", "unreachable")


def _in_cohort(cohort: str) -> list[ColumnElement[bool]]:
    """The conditions for the participants a broadcast to `cohort` reaches."""
    where: list[ColumnElement[bool]] = [Participant.status.in_(RECIPIENT_STATUSES)]
    if cohort.startswith("language:"):
        where.append(Participant.language == cohort.split(":", 1)[1])
    return where


async def recipients(session: AsyncSession, cohort: str) -> list[Recipient]:
    """Signed-up participants in a cohort (`all` or `language:xx`), not paused."""
    query = select(
        Participant.id,
        Participant.telegram_id,
        Participant.language,
        Participant.status,
        Participant.channel,
        Participant.address,
    )
    rows = await session.execute(query.where(*_in_cohort(cohort)).order_by(Participant.id))
    return [Recipient(*row) for row in rows.all()]


async def count_recipients(session: AsyncSession, cohort: str) -> int:
    """How many participants a broadcast to this cohort would reach now."""
    return int(
        await session.scalar(select(func.count(Participant.id)).where(*_in_cohort(cohort))) or 0
    )


async def add_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert the delivery rows in bulk (one outbox row per recipient), a chunk at a time,
    yielding between chunks: encrypting thousands of rows in one go would hold the event
    loop while a crisis alert waits."""
    for start in range(0, len(rows), DELIVERY_CHUNK):
        await session.execute(insert(OutboxItem), rows[start : start + DELIVERY_CHUNK])
        await asyncio.sleep(0)
    if rows:
        note_queued(session, min(row["priority"] for row in rows))


async def report(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """Delivery counts by outcome; every recipient is in exactly one of them."""
    counts = dict(
        (
            await session.execute(
                select(OutboxItem.status, func.count())
                .where(OutboxItem.broadcast_id == broadcast_id, OutboxItem.kind == "broadcast")
                .group_by(OutboxItem.status)
            )
        ).all()
    )
    return {
        "sent": int(counts.get("sent", 0)),
        "failed": int(counts.get("failed", 0)) + int(counts.get("unknown", 0)),
        "blocked": int(counts.get("blocked", 0)),
        "pending": int(counts.get("pending", 0)) + int(counts.get("sending", 0)),
    }


async def blocked_recipients(session: AsyncSession, broadcast_id: int) -> list[tuple[int, str]]:
    """The participants a broadcast could not reach because they blocked the bot (before
    or during it), as (id, name), in id order."""
    rows = await session.execute(
        select(Participant.id, Participant.name)
        .join(OutboxItem, OutboxItem.participant_id == Participant.id)
        .where(
            OutboxItem.broadcast_id == broadcast_id,
            OutboxItem.kind == "broadcast",
            OutboxItem.status == "blocked",
        )
        .order_by(Participant.id)
    )
    return [(int(row[0]), str(row[1])) for row in rows.all()]


async def finish(session: AsyncSession, broadcast_id: int) -> bool:
    """Mark a broadcast done exactly once (sending → done): only the caller that gets True
    sends the final report."""
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.SENDING)
        .values(status=BroadcastStatus.DONE)
    )
    return getattr(result, "rowcount", 0) == 1


async def cancel(session: AsyncSession, broadcast_id: int) -> bool:
    """Call off a broadcast that has not started (scheduled → cancelled); False when it
    started, finished or was cancelled already, or does not exist."""
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.SCHEDULED)
        .values(status=CANCELLED)
    )
    return getattr(result, "rowcount", 0) == 1


async def planned(session: AsyncSession, limit: int) -> Sequence[Broadcast]:
    """Broadcasts that have not started yet, the soonest first."""
    return (
        await session.scalars(
            select(Broadcast)
            .where(Broadcast.status == BroadcastStatus.SCHEDULED)
            .order_by(Broadcast.send_at, Broadcast.id)
            .limit(limit)
        )
    ).all()


async def in_progress(session: AsyncSession) -> Sequence[Broadcast]:
    """Broadcasts being delivered."""
    return (
        await session.scalars(select(Broadcast).where(Broadcast.status == BroadcastStatus.SENDING))
    ).all()


async def progress_message_id(session: AsyncSession, broadcast_id: int) -> int | None:
    """The Telegram id of the coordinator's progress message, once it was sent."""
    return await session.scalar(
        select(OutboxItem.telegram_message_id).where(
            OutboxItem.broadcast_id == broadcast_id,
            OutboxItem.kind == "progress",
            OutboxItem.action == Action.MESSAGE,
            OutboxItem.telegram_message_id.is_not(None),
        )
    )


async def by_id(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    """One broadcast."""
    return await session.get(Broadcast, broadcast_id)


async def recent(session: AsyncSession, limit: int) -> Sequence[Broadcast]:
    """The newest broadcasts in any state, newest first (the dashboard's history)."""
    return (
        await session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
    ).all()


async def count_by_language(session: AsyncSession) -> dict[str, int]:
    """How many participants a broadcast would reach now, per language they read."""
    rows = await session.execute(
        select(Participant.language, func.count(Participant.id))
        .where(*_in_cohort("all"))
        .group_by(Participant.language)
    )
    return {str(language): int(count) for language, count in rows.all()}
