"""Deleting data: one participant everywhere (erasure), or everything past retention.

Both go through db.personal_data, the declared list of tables about participants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, func, literal, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import OutboxStatus
from db.models import (
    AuditEntry,
    Base,
    ConversationState,
    InboxUpdate,
    Invite,
    OutboxItem,
    Participant,
)
from db.personal_data import OTHER_PURGED, PERSONAL_DATA

# Who sent a stored raw update: given its stored (encrypted) payload, the sender's
# Telegram id, or None when it cannot be read.
SenderOf = Callable[[str], int | None]


async def erase_participant(
    session: AsyncSession, participant: Participant, sender_of: SenderOf
) -> dict[str, int]:
    """Delete the participant and everything about them; returns rows per table."""
    counts: dict[str, int] = {}
    for table in PERSONAL_DATA:
        column = getattr(table.model, "participant_id", None)
        if column is None or table.erased_by != "cascade":
            continue
        counts[table.model.__tablename__] = int(
            await session.scalar(select(func.count()).where(column == participant.id)) or 0
        )
    if participant.telegram_id is not None:
        counts["inbox"] = await _forget_raw_updates(session, participant.telegram_id, sender_of)
        # Audit lines stay (accountability) but no longer say which Telegram account it was.
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.actor_telegram_id == participant.telegram_id)
            .values(actor_telegram_id=None)
        )
    counts["conversation_state"] += await _forget_staff_flows_about(session, participant.id)
    result = await session.execute(delete(Invite).where(Invite.participant_id == participant.id))
    counts["invites"] = int(getattr(result, "rowcount", 0))
    await session.execute(delete(Participant).where(Participant.id == participant.id))
    counts["participants"] = 1
    return counts


async def _forget_staff_flows_about(session: AsyncSession, participant_id: int) -> int:
    """Staff flows that point at this participant (*Reply* pressed, an appointment being
    planned) end with them."""
    forgotten = 0
    for state in (await session.scalars(select(ConversationState))).all():
        if isinstance(state.data, dict) and state.data.get("participant_id") == participant_id:
            await session.delete(state)
            forgotten += 1
    return forgotten


async def _forget_raw_updates(session: AsyncSession, telegram_id: int, sender_of: SenderOf) -> int:
    """Raw updates still stored from this person (unprocessed ones, and ones kept because
    handling them failed) hold their text too."""
    rows = await session.execute(
        select(InboxUpdate.update_id, type_coerce(InboxUpdate.payload, Text)).where(
            InboxUpdate.payload.is_not(None)
        )
    )
    mine = [update_id for update_id, token in rows.all() if sender_of(token) == telegram_id]
    if mine:
        await session.execute(delete(InboxUpdate).where(InboxUpdate.update_id.in_(mine)))
    return len(mine)


async def staff_copies(
    session: AsyncSession, participant: Participant, since: datetime
) -> list[tuple[int, int]]:
    """Messages about this participant the bot posted into staff chats since a moment:
    (chat id, message id)."""
    rows = await session.execute(
        select(OutboxItem.chat_id, OutboxItem.telegram_message_id).where(
            OutboxItem.participant_id == participant.id,
            OutboxItem.status == OutboxStatus.SENT,
            OutboxItem.telegram_message_id.is_not(None),
            OutboxItem.sent_at >= since,
            OutboxItem.chat_id != (participant.telegram_id or 0),
            OutboxItem.chat_id > 0,
        )
    )
    return [(int(chat), int(message)) for chat, message in rows.all() if message is not None]


def purged_tables() -> int:
    """How many tables `purge_before` goes through (for a progress bar)."""
    return sum(1 for table in (*PERSONAL_DATA, *OTHER_PURGED) if table.purged_by is not None)


async def purge_before(
    session: AsyncSession, cutoff: datetime, table_done: Callable[[int], object] | None = None
) -> dict[str, int]:
    """Delete what is older than `cutoff` in every table the retention period applies to;
    returns rows per table. `table_done(1)` is called after each table."""
    counts = {}
    for table in (*PERSONAL_DATA, *OTHER_PURGED):
        if table.purged_by is None:
            continue
        statement = delete(table.model).where(getattr(table.model, table.purged_by) < cutoff)
        if table.purge_only is not None:
            statement = statement.where(table.purge_only)
        result = await session.execute(statement)
        counts[table.model.__tablename__] = int(getattr(result, "rowcount", 0))
        if table_done is not None:
            table_done(1)
    return counts


async def count_tokens(session: AsyncSession, table: str, column: str) -> int:
    """How many rows of an encrypted column hold a token."""
    model = Base.metadata.tables[table]
    query = select(func.count()).select_from(model).where(model.c[column].is_not(None))
    return int((await session.execute(query)).scalar_one())


async def raw_tokens(
    session: AsyncSession, table: str, key: str, column: str, after: object, limit: int
) -> Sequence[tuple[Any, str]]:
    """Stored tokens of an encrypted column as they are on disk, in key order."""
    model = Base.metadata.tables[table]
    query = (
        select(model.c[key], type_coerce(model.c[column], Text))
        .where(model.c[column].is_not(None))
        .order_by(model.c[key])
        .limit(limit)
    )
    if after is not None:
        query = query.where(model.c[key] > after)
    return [(row[0], str(row[1])) for row in (await session.execute(query)).all()]


async def set_raw_token(
    session: AsyncSession, table: str, key: str, column: str, row_key: object, token: str
) -> None:
    """Write a token as it is (already encrypted)."""
    model = Base.metadata.tables[table]
    await session.execute(
        update(model).where(model.c[key] == row_key).values({column: literal(token, Text)})
    )
