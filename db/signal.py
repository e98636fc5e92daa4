"""Signal contacts (numbers encrypted, found by keyed hash) and what the Signal channel
reads back from the outbox: the last question it asked a chat, and receipts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import Action, Channel, OutboxStatus
from db.models import OutboxItem, SignalContact


async def contact_by_lookup(session: AsyncSession, lookups: Sequence[str]) -> SignalContact | None:
    """The contact whose keyed hash is one of `lookups` (one per configured key)."""
    if not lookups:
        return None
    return await session.scalar(
        select(SignalContact).where(SignalContact.lookup.in_(list(lookups))).limit(1)
    )


async def add_contact(
    session: AsyncSession, lookup: str, number: str | None, uuid: str | None, now: datetime
) -> SignalContact:
    """A new contact, flushed so it has its id."""
    contact = SignalContact(lookup=lookup, number=number, uuid=uuid, created_at=now)
    session.add(contact)
    await session.flush()
    return contact


async def contact_by_id(session: AsyncSession, contact_id: int) -> SignalContact | None:
    """A contact by its id (the chat it stands for)."""
    return await session.get(SignalContact, contact_id)


async def last_message_to(session: AsyncSession, chat_id: int) -> OutboxItem | None:
    """The newest message Oprit sent into a Signal chat (its choices are what a typed
    number answers). Newest as Oprit wrote them, not as they arrived: a message that waited
    out an outage can reach the phone after a question written later, and must not end it."""
    return await session.scalar(
        select(OutboxItem)
        .where(
            OutboxItem.channel == Channel.SIGNAL,
            OutboxItem.chat_id == chat_id,
            OutboxItem.action == Action.MESSAGE,
            OutboxItem.status == OutboxStatus.SENT,
        )
        .order_by(OutboxItem.id.desc())
        .limit(1)
    )


async def record_receipts(
    session: AsyncSession, chat_id: int, timestamps: Sequence[int], kind: str, when: datetime
) -> int:
    """Mark sent messages (by their Signal timestamp) delivered or read; returns how many
    rows changed. A read receipt also means delivered."""
    if not timestamps or kind not in ("delivered", "read"):
        return 0
    values: dict[str, Any] = {"delivered_at": when} if kind == "delivered" else {"read_at": when}
    statement = update(OutboxItem).where(
        OutboxItem.channel == Channel.SIGNAL,
        OutboxItem.chat_id == chat_id,
        OutboxItem.telegram_message_id.in_(list(timestamps)),
    )
    changed = await session.execute(statement.values(**values))
    if kind == "read":
        await session.execute(
            statement.where(OutboxItem.delivered_at.is_(None)).values(delivered_at=when)
        )
    return int(getattr(changed, "rowcount", 0) or 0)
