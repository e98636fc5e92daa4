"""Deleting data: one participant everywhere (erasure), or everything past retention."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, func, literal, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import crypto
from db.models import (
    Alert,
    Appointment,
    AuditEntry,
    Base,
    Broadcast,
    Checkin,
    ConversationState,
    HelpRequest,
    InboxUpdate,
    Invite,
    KeyValue,
    Message,
    OutboxItem,
    Participant,
)

# Rows that hang off a participant; deleting the participant cascades to all of them.
OWNED = (Message, Checkin, HelpRequest, Appointment, Alert, OutboxItem, KeyValue)


async def erase_participant(session: AsyncSession, participant: Participant) -> dict[str, int]:
    """Delete the participant and everything about them; returns rows per table."""
    counts: dict[str, int] = {}
    for model in OWNED:
        counts[model.__tablename__] = int(
            await session.scalar(select(func.count()).where(model.participant_id == participant.id))
            or 0
        )
    if participant.telegram_id is not None:
        await session.execute(
            delete(ConversationState).where(
                ConversationState.telegram_id == participant.telegram_id
            )
        )
        counts["inbox"] = await _forget_raw_updates(session, participant.telegram_id)
        # Audit lines stay (accountability) but no longer say which Telegram account it was.
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.actor_telegram_id == participant.telegram_id)
            .values(actor_telegram_id=None)
        )
    counts["conversation_state"] = await _forget_staff_flows_about(session, participant.id)
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


async def _forget_raw_updates(session: AsyncSession, telegram_id: int) -> int:
    """Raw updates still stored from this person (unprocessed ones, and ones kept because
    handling them failed) hold their text too."""
    forgotten = 0
    rows = await session.execute(
        select(InboxUpdate.update_id, type_coerce(InboxUpdate.payload, Text)).where(
            InboxUpdate.payload.is_not(None)
        )
    )
    for update_id, token in rows.all():
        try:
            payload: Any = json.loads(crypto.decrypt(token))
        except crypto.EncryptionKeyError:
            continue  # unreadable with these keys: cannot be matched to anyone
        parts = payload.values() if isinstance(payload, dict) else []
        senders = {(part.get("from") or {}).get("id") for part in parts if isinstance(part, dict)}
        if telegram_id in senders:
            await session.execute(delete(InboxUpdate).where(InboxUpdate.update_id == update_id))
            forgotten += 1
    return forgotten


async def staff_copies(
    session: AsyncSession, participant: Participant, since: datetime
) -> list[tuple[int, int]]:
    """Messages about this participant the bot posted into staff chats since a moment:
    (chat id, message id)."""
    rows = await session.execute(
        select(OutboxItem.chat_id, OutboxItem.telegram_message_id).where(
            OutboxItem.participant_id == participant.id,
            OutboxItem.status == "sent",
            OutboxItem.telegram_message_id.is_not(None),
            OutboxItem.sent_at >= since,
            OutboxItem.chat_id != (participant.telegram_id or 0),
            OutboxItem.chat_id > 0,
        )
    )
    return [(int(chat), int(message)) for chat, message in rows.all() if message is not None]


async def purge_before(session: AsyncSession, cutoff: datetime) -> dict[str, int]:
    """Delete conversation data older than `cutoff`; returns rows per table."""
    finished = ("sent", "failed", "blocked", "unknown", "dropped")
    statements = {
        "messages": delete(Message).where(Message.at < cutoff),
        "checkins": delete(Checkin).where(Checkin.created_at < cutoff),
        "help_requests": delete(HelpRequest).where(HelpRequest.created_at < cutoff),
        "appointments": delete(Appointment).where(Appointment.at < cutoff),
        "alerts": delete(Alert).where(Alert.created_at < cutoff),
        "outbox": delete(OutboxItem).where(
            OutboxItem.created_at < cutoff, OutboxItem.status.in_(finished)
        ),
        "broadcasts": delete(Broadcast).where(
            Broadcast.created_at < cutoff, Broadcast.status == "done"
        ),
        "inbox": delete(InboxUpdate).where(
            InboxUpdate.received_at < cutoff, InboxUpdate.processed_at.is_not(None)
        ),
        "conversation_state": delete(ConversationState).where(
            ConversationState.updated_at < cutoff
        ),
    }
    counts = {}
    for name, statement in statements.items():
        result = await session.execute(statement)
        counts[name] = int(getattr(result, "rowcount", 0))
    return counts


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
