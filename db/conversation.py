"""Queries for the conversation itself: inbox, stored messages and flow state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ConversationState, InboxUpdate, Message


async def store_updates(
    session: AsyncSession, updates: Sequence[tuple[int, dict[str, Any]]], now: datetime
) -> int:
    """Insert raw updates, skipping ids already stored; returns how many were new."""
    if not updates:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # One statement for the whole batch (up to 100 updates): a statement per update was a
    # tenth of the inbox's database round trips.
    statement = (
        insert(InboxUpdate)
        .values(
            [
                {"update_id": update_id, "payload": payload, "received_at": now}
                for update_id, payload in updates
            ]
        )
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def pending_update_ids(session: AsyncSession, limit: int) -> Sequence[int]:
    """Stored but unprocessed updates, oldest first."""
    return (
        await session.scalars(
            select(InboxUpdate.update_id)
            .where(InboxUpdate.processed_at.is_(None))
            .order_by(InboxUpdate.update_id)
            .limit(limit)
        )
    ).all()


async def lock_update(session: AsyncSession, update_id: int) -> InboxUpdate | None:
    """The unprocessed update, locked for this transaction; None when it is done or
    another worker holds it (PostgreSQL skips locked rows; SQLite has one writer)."""
    query = select(InboxUpdate).where(
        InboxUpdate.update_id == update_id, InboxUpdate.processed_at.is_(None)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return await session.scalar(query.execution_options(populate_existing=True))


async def mark_processed(
    session: AsyncSession, update_id: int, now: datetime, error: str | None = None
) -> None:
    """Processed: forget the raw payload (its content now lives in `messages`)."""
    await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.update_id == update_id)
        .values(processed_at=now, payload=None, error=error)
    )


async def count_unprocessed(session: AsyncSession) -> int:
    """How many stored updates wait for processing."""
    count = await session.scalar(select(func.count()).where(InboxUpdate.processed_at.is_(None)))
    return int(count or 0)


async def message_exists(session: AsyncSession, dedupe_key: str) -> bool:
    """Whether an inbound message was already stored (a redelivered update)."""
    found = await session.scalar(select(Message.id).where(Message.dedupe_key == dedupe_key))
    return found is not None


async def flow_state(session: AsyncSession, telegram_id: int) -> ConversationState | None:
    """The flow a person is in, if any."""
    return await session.get(ConversationState, telegram_id)


async def save_flow_state(
    session: AsyncSession,
    telegram_id: int,
    flow: str,
    step: str,
    token: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Remember where a person is in a flow (replacing any earlier flow)."""
    state = await session.get(ConversationState, telegram_id)
    if state is None:
        session.add(
            ConversationState(
                telegram_id=telegram_id,
                flow=flow,
                step=step,
                token=token,
                data=data,
                updated_at=now,
            )
        )
        return
    state.flow, state.step, state.token, state.data, state.updated_at = flow, step, token, data, now


async def clear_flow_state(session: AsyncSession, telegram_id: int) -> None:
    """The person finished or left their flow."""
    state = await session.get(ConversationState, telegram_id)
    if state is not None:
        await session.delete(state)


async def messages_of(session: AsyncSession, participant_id: int) -> Sequence[Message]:
    """All stored messages of a participant, in order."""
    return (
        await session.scalars(
            select(Message).where(Message.participant_id == participant_id).order_by(Message.id)
        )
    ).all()
