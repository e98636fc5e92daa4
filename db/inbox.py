"""The inbox: raw updates stored before the channel hears we have them, taken in order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Text, delete, select, text, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import InboxUpdate
from db.session import insert_for

# Telegram redelivers an update for at most a day, and starts its update ids anew after a
# week without updates: a processed marker older than this only drops new updates.
MARKER_LIFETIME = timedelta(days=2)


class NewUpdate(NamedTuple):
    """A raw update as it arrived, with what the inbox orders by."""

    update_id: int
    payload: dict[str, Any]
    chat_id: int | None
    urgent: bool


async def store_updates(session: AsyncSession, updates: Sequence[NewUpdate], now: datetime) -> int:
    """Insert raw updates, skipping ids stored recently (redeliveries); an id whose marker
    is older than MARKER_LIFETIME is a new update. Returns how many were new."""
    if not updates:
        return 0
    insert = insert_for(session)
    # One statement for the whole batch (up to 100 updates): one round trip, not one each.
    statement = insert(InboxUpdate).values(
        [
            {
                "update_id": update.update_id,
                "payload": update.payload,
                "received_at": now,
                "chat_id": update.chat_id,
                "urgent": update.urgent,
            }
            for update in updates
        ]
    )
    statement = statement.on_conflict_do_update(
        index_elements=["update_id"],
        set_={
            "payload": statement.excluded.payload,
            "received_at": statement.excluded.received_at,
            "chat_id": statement.excluded.chat_id,
            "urgent": statement.excluded.urgent,
            "processed_at": None,
            "error": None,
        },
        where=InboxUpdate.processed_at.is_not(None)
        & (InboxUpdate.received_at < now - MARKER_LIFETIME),
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def pending_update_ids(session: AsyncSession, limit: int) -> list[int]:
    """Stored, unprocessed updates in the order to process them: first every chat with an
    urgent update (its earlier updates too, so one chat's messages keep their order), then
    the oldest of the rest."""
    pending = InboxUpdate.processed_at.is_(None)
    urgent = (
        await session.execute(
            select(InboxUpdate.update_id, InboxUpdate.chat_id)
            .where(pending, InboxUpdate.urgent.is_(True))
            .order_by(InboxUpdate.update_id)
            .limit(limit)
        )
    ).all()
    first: list[int] = []
    if urgent:
        last_urgent: dict[int | None, int] = {}
        for update_id, chat_id in urgent:
            last_urgent[chat_id] = update_id
        chats = [chat_id for chat_id in last_urgent if chat_id is not None]
        # Sorted here: an ORDER BY would make SQLite walk the whole backlog in update order
        # instead of using the chat index.
        earlier = (
            await session.execute(
                select(InboxUpdate.update_id, InboxUpdate.chat_id).where(
                    pending, InboxUpdate.chat_id.in_(chats)
                )
            )
        ).all()
        first = sorted(
            {update_id for update_id, _chat in urgent}
            | {
                update_id
                for update_id, chat_id in earlier
                if update_id <= last_urgent.get(chat_id, update_id - 1)
            }
        )
    oldest = (
        await session.scalars(
            select(InboxUpdate.update_id)
            .where(pending)
            .order_by(InboxUpdate.update_id)
            .limit(limit)
        )
    ).all()
    taken = set(first)
    return first + [update_id for update_id in oldest if update_id not in taken]


class LockedUpdate(NamedTuple):
    """An unprocessed update taken by this transaction; `token` is the payload as stored
    (encrypted), so one undecryptable row cannot stop the others."""

    update_id: int
    chat_id: int | None
    token: str | None
    urgent: bool = False


async def lock_updates(session: AsyncSession, update_ids: Sequence[int]) -> list[LockedUpdate]:
    """The unprocessed ones of these updates that this transaction may handle now, locked,
    in the order asked for.

    On PostgreSQL, rows another worker holds are skipped, and each chat is taken with a
    transaction-level advisory lock, so two workers never handle one chat at once. On every
    backend, an update is only taken when every earlier unprocessed update of its chat is
    taken too: a chat's messages are handled in order, across workers."""
    if not update_ids:
        return []
    query = select(
        InboxUpdate.update_id,
        InboxUpdate.chat_id,
        type_coerce(InboxUpdate.payload, Text),
        InboxUpdate.urgent,
    ).where(InboxUpdate.update_id.in_(list(update_ids)), InboxUpdate.processed_at.is_(None))
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        query = query.with_for_update(skip_locked=True)
    found = {
        int(row[0]): LockedUpdate(int(row[0]), row[1], row[2], bool(row[3]))
        for row in (await session.execute(query)).all()
    }
    chats = {row.chat_id for row in found.values() if row.chat_id is not None}
    if postgres:
        for chat_id in sorted(chats):
            if not await session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:space, :chat)"),
                {"space": CHAT_LOCK_SPACE, "chat": _int4(chat_id)},
            ):
                chats.discard(chat_id)
                found = {k: v for k, v in found.items() if v.chat_id != chat_id}
    if chats and found:
        found = await _only_in_order(session, found, chats)
    return [found[update_id] for update_id in update_ids if update_id in found]


# pg_try_advisory_xact_lock(int, int): this first key is Oprit's space for chat locks.
CHAT_LOCK_SPACE = 0x0972


def _int4(chat_id: int) -> int:
    """A chat id folded into PostgreSQL's int4 (two chats sharing a lock only wait)."""
    return (chat_id % 2**32) - 2**31


async def _only_in_order(
    session: AsyncSession, found: dict[int, LockedUpdate], chats: set[int]
) -> dict[int, LockedUpdate]:
    """Drop each update behind an earlier unprocessed update of its chat that is not taken."""
    earlier = await session.execute(
        select(InboxUpdate.update_id, InboxUpdate.chat_id).where(
            InboxUpdate.processed_at.is_(None),
            InboxUpdate.chat_id.in_(list(chats)),
            InboxUpdate.update_id <= max(found),
        )
    )  # sorted here, not by SQL: see pending_update_ids
    blocked: set[int | None] = set()
    kept = {k: v for k, v in found.items() if v.chat_id not in chats}
    for update_id, chat_id in sorted(earlier.all()):
        if chat_id in blocked:
            continue
        if update_id in found:
            kept[update_id] = found[update_id]
        else:
            blocked.add(chat_id)
    return kept


async def lock_update(session: AsyncSession, update_id: int) -> LockedUpdate | None:
    """The unprocessed update, locked for this transaction; None when it is done, another
    worker holds it or its chat, or an earlier update of its chat waits."""
    rows = await lock_updates(session, [update_id])
    return rows[0] if rows else None


async def mark_processed(
    session: AsyncSession,
    update_ids: Sequence[int],
    now: datetime,
    error: str | None = None,
    *,
    keep_payload: bool = False,
) -> None:
    """Processed: forget the raw payloads and their chats (the content now lives in
    `messages`); `keep_payload` when it could not be handled, so nothing is lost."""
    values: dict[str, Any] = {"processed_at": now, "error": error}
    if not keep_payload:
        values.update(payload=None, chat_id=None)
    await session.execute(
        update(InboxUpdate).where(InboxUpdate.update_id.in_(list(update_ids))).values(**values)
    )


async def forget_old_markers(session: AsyncSession, now: datetime) -> int:
    """Delete processed-update markers that can no longer stop a redelivery."""
    result = await session.execute(
        delete(InboxUpdate).where(
            InboxUpdate.processed_at.is_not(None),
            InboxUpdate.received_at < now - MARKER_LIFETIME,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
