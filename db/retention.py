"""Deleting data: one participant everywhere (erasure), or everything past retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, func, literal, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

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
    Message,
    OutboxItem,
    Participant,
)

# Rows that hang off a participant; deleting the participant cascades to all of them.
OWNED = (Message, Checkin, HelpRequest, Appointment, Alert, OutboxItem)


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
        counts["inbox"] = await _forget_unprocessed(session, participant.telegram_id)
        # Audit lines stay (accountability) but no longer say which Telegram account it was.
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.actor_telegram_id == participant.telegram_id)
            .values(actor_telegram_id=None)
        )
    result = await session.execute(delete(Invite).where(Invite.participant_id == participant.id))
    counts["invites"] = int(getattr(result, "rowcount", 0))
    await session.execute(delete(Participant).where(Participant.id == participant.id))
    counts["participants"] = 1
    return counts


async def _forget_unprocessed(session: AsyncSession, telegram_id: int) -> int:
    """Unprocessed raw updates from this person (normally none) hold their text too."""
    forgotten = 0
    for row in (
        await session.scalars(select(InboxUpdate).where(InboxUpdate.processed_at.is_(None)))
    ).all():
        payload: dict[str, Any] = row.payload or {}
        senders = {
            (part.get("from") or {}).get("id")
            for part in payload.values()
            if isinstance(part, dict)
        }
        if telegram_id in senders:
            await session.delete(row)
            forgotten += 1
    return forgotten


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
