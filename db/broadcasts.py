"""Broadcast queries: recipients, delivery rows and the delivery report."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import Action, BroadcastStatus
from db.models import Broadcast, OutboxItem, Participant
from db.outbox import note_queued

DELIVERY_CHUNK = 250


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


async def recipients(session: AsyncSession, cohort: str) -> list[Recipient]:
    """Signed-up participants in a cohort (`all` or `language:xx`), not paused."""
    query = select(
        Participant.id,
        Participant.telegram_id,
        Participant.language,
        Participant.status,
        Participant.channel,
        Participant.address,
    ).where(Participant.status.in_(("active", "unreachable")))
    if cohort.startswith("language:"):
        query = query.where(Participant.language == cohort.split(":", 1)[1])
    rows = await session.execute(query.order_by(Participant.id))
    return [Recipient(*row) for row in rows.all()]


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
