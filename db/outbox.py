"""Outbox queries: add rows, claim due rows atomically, record what happened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxItem


def add(session: AsyncSession, **fields: Any) -> OutboxItem:
    """Queue one outgoing message (flushed with the caller's transaction)."""
    item = OutboxItem(**fields)
    session.add(item)
    return item


async def claim_due(
    session: AsyncSession, worker: str, now: datetime, limit: int, kinds: Sequence[str] | None
) -> Sequence[OutboxItem]:
    """Atomically take up to `limit` due rows for this worker, most urgent first.

    One UPDATE … RETURNING; on PostgreSQL the inner SELECT skips rows another worker
    has locked, so two workers never take the same row.
    """
    due = (
        select(OutboxItem.id)
        .where(OutboxItem.status == "pending", OutboxItem.due_at <= now)
        .order_by(OutboxItem.priority, OutboxItem.due_at, OutboxItem.id)
        .limit(limit)
    )
    if kinds is not None:
        due = due.where(OutboxItem.kind.in_(kinds))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = await session.scalars(
        update(OutboxItem)
        .where(OutboxItem.id.in_(due.scalar_subquery()), OutboxItem.status == "pending")
        .values(
            status="sending", claimed_by=worker, claimed_at=now, attempts=OutboxItem.attempts + 1
        )
        .returning(OutboxItem.id)
    )
    ids = list(claimed.all())
    if not ids:
        return []
    rows = await session.scalars(
        select(OutboxItem)
        .where(OutboxItem.id.in_(ids))
        .order_by(OutboxItem.priority, OutboxItem.due_at, OutboxItem.id)
        .execution_options(populate_existing=True)
    )
    return rows.all()


async def finish(session: AsyncSession, item_id: int, **values: Any) -> None:
    """Record the outcome of one send attempt."""
    await session.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(**values))


async def recover_abandoned(
    session: AsyncSession, now: datetime, lease: timedelta, resend_kinds: Sequence[str]
) -> tuple[int, int]:
    """Rows a dead worker left in `sending`: alerts and reminders go again, the rest are
    marked `unknown` (a second copy of a broadcast or reply is worse than none)."""
    stale = OutboxItem.status == "sending", OutboxItem.claimed_at < now - lease
    again = await session.execute(
        update(OutboxItem)
        .where(*stale, OutboxItem.kind.in_(resend_kinds))
        .values(status="pending", claimed_by=None)
    )
    dropped = await session.execute(
        update(OutboxItem)
        .where(*stale, OutboxItem.kind.not_in(resend_kinds))
        .values(status="unknown", error="worker stopped while sending")
    )
    return int(getattr(again, "rowcount", 0)), int(getattr(dropped, "rowcount", 0))


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next pending row falls due (to sleep exactly that long)."""
    return await session.scalar(
        select(func.min(OutboxItem.due_at)).where(OutboxItem.status == "pending")
    )


async def by_chat_message(
    session: AsyncSession, chat_id: int, telegram_message_id: int
) -> OutboxItem | None:
    """The outbox row behind a message the bot posted (to map a staff reply)."""
    return await session.scalar(
        select(OutboxItem).where(
            OutboxItem.chat_id == chat_id, OutboxItem.telegram_message_id == telegram_message_id
        )
    )


async def pending_for_chat(session: AsyncSession, chat_id: int) -> int:
    """How many rows still wait for this chat."""
    count = await session.scalar(
        select(func.count()).where(
            OutboxItem.chat_id == chat_id, OutboxItem.status.in_(("pending", "sending"))
        )
    )
    return int(count or 0)
