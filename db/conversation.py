"""Queries for the conversation itself: inbox, stored messages and flow state."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ConversationState, InboxUpdate, Message
from db.session import insert_for


class NewUpdate(NamedTuple):
    """A raw update as it arrived, with what the inbox orders by."""

    update_id: int
    payload: dict[str, Any]
    chat_id: int | None
    urgent: bool


async def store_updates(session: AsyncSession, updates: Sequence[NewUpdate], now: datetime) -> int:
    """Insert raw updates, skipping ids already stored; returns how many were new."""
    if not updates:
        return 0
    insert = insert_for(session)
    # One statement for the whole batch (up to 100 updates): a statement per update was a
    # tenth of the inbox's database round trips.
    statement = (
        insert(InboxUpdate)
        .values(
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
        .on_conflict_do_nothing(index_elements=["update_id"])
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
        earlier = (
            await session.execute(
                select(InboxUpdate.update_id, InboxUpdate.chat_id)
                .where(pending, InboxUpdate.chat_id.in_(chats))
                .order_by(InboxUpdate.update_id)
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


async def lock_updates(session: AsyncSession, update_ids: Sequence[int]) -> list[InboxUpdate]:
    """The unprocessed ones of these updates, locked for this transaction, in the order
    asked for (another worker's locked rows are skipped on PostgreSQL)."""
    query = select(InboxUpdate).where(
        InboxUpdate.update_id.in_(list(update_ids)), InboxUpdate.processed_at.is_(None)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = {
        row.update_id: row
        for row in await session.scalars(query.execution_options(populate_existing=True))
    }
    return [rows[update_id] for update_id in update_ids if update_id in rows]


async def lock_update(session: AsyncSession, update_id: int) -> InboxUpdate | None:
    """The unprocessed update, locked for this transaction; None when it is done or
    another worker holds it (PostgreSQL skips locked rows; SQLite has one writer)."""
    rows = await lock_updates(session, [update_id])
    return rows[0] if rows else None


async def mark_processed(
    session: AsyncSession, update_ids: Sequence[int], now: datetime, error: str | None = None
) -> None:
    """Processed: forget the raw payloads and their chats (the content now lives in
    `messages`)."""
    await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.update_id.in_(list(update_ids)))
        .values(processed_at=now, payload=None, chat_id=None, error=error)
    )


async def count_unprocessed(session: AsyncSession) -> int:
    """How many stored updates wait for processing."""
    count = await session.scalar(select(func.count()).where(InboxUpdate.processed_at.is_(None)))
    return int(count or 0)


async def insert_message_once(session: AsyncSession, **values: Any) -> Message | None:
    """Store a message unless its `dedupe_key` is stored already (a redelivery): one
    INSERT … ON CONFLICT DO NOTHING RETURNING, not a look-up and then an insert."""
    insert = insert_for(session)
    statement = (
        insert(Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Message)
    )
    return (await session.scalars(statement)).first()


# Set by `prefetch_flow_states`: Telegram ids known to have no flow state in this
# transaction; kept true by `save_flow_state` and `clear_flow_state`.
WITHOUT_FLOW = "oprit_without_flow"


async def prefetch_flow_states(session: AsyncSession, telegram_ids: Collection[int]) -> None:
    """Read the flow states of these people in one query for the updates that share this
    transaction (bot.inbox); the rows found stay in the session, the others are known to
    be absent, so `flow_state` needs no query of its own."""
    wanted = set(telegram_ids)
    found = await session.scalars(
        select(ConversationState).where(ConversationState.telegram_id.in_(wanted))
    )
    session.info[WITHOUT_FLOW] = wanted - {state.telegram_id for state in found.all()}


def _known_absent(session: AsyncSession, telegram_id: int) -> bool:
    return telegram_id in session.info.get(WITHOUT_FLOW, ())


async def flow_state(session: AsyncSession, telegram_id: int) -> ConversationState | None:
    """The flow a person is in, if any."""
    if _known_absent(session, telegram_id):
        return None
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
    state = await flow_state(session, telegram_id)
    if state is None:
        session.info.get(WITHOUT_FLOW, set()).discard(telegram_id)
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
    state = await flow_state(session, telegram_id)
    if state is not None:
        await session.delete(state)
        await session.flush()  # a flow started again in this transaction is a new row
        if WITHOUT_FLOW in session.info:
            session.info[WITHOUT_FLOW].add(telegram_id)


async def messages_of(session: AsyncSession, participant_id: int) -> Sequence[Message]:
    """All stored messages of a participant, in order."""
    return (
        await session.scalars(
            select(Message).where(Message.participant_id == participant_id).order_by(Message.id)
        )
    ).all()
