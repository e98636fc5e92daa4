"""Subject rights and retention: erasing a participant, purging old conversation, and
re-encrypting everything under a new key.

Erasure removes every row about the person, staff-facing ones included (alerts, case
views, relayed replies, topic titles: every such row is linked to the participant and the
foreign keys cascade from the participant row), and leaves one audit line with ids only.
On Telegram, the forum topic is deleted with everything in it, and the bot deletes its
copies in staff chats that Telegram still lets it delete (48 hours). Purging deletes
conversation older than OPRIT_RETENTION_DAYS. Key rotation works in small batches while
the bot runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import crypto, outbox
from bot.officer_alerts import Routing
from db import conversation, keycheck, people, retention
from db.models import Base

log = logging.getLogger(__name__)

ROTATE_BATCH = 500
# Telegram lets a bot delete its own messages in private chats for 48 hours.
TELEGRAM_DELETE_WINDOW = timedelta(hours=47)


class PrivacyError(ValueError):
    """A request a person can fix (no such participant)."""


async def erase(
    session: AsyncSession, participant_id: int, now: datetime, actor: str
) -> dict[str, int]:
    """Delete everything about one participant; returns how many rows went, per table."""
    participant = await people.participant_by_id(session, participant_id)
    if participant is None:
        raise PrivacyError(f"no participant with id {participant_id}")
    if Routing.forum_chat_id is not None and participant.forum_topic_id:
        outbox.enqueue_call(
            session,
            "deleteForumTopic",
            Routing.forum_chat_id,
            {"message_thread_id": participant.forum_topic_id},
            now=now,
        )
    for chat_id, message_id in await retention.staff_copies(
        session, participant, now - TELEGRAM_DELETE_WINDOW
    ):
        outbox.enqueue_call(session, "deleteMessage", chat_id, {"message_id": message_id}, now=now)
    counts = await retention.erase_participant(session, participant)
    people.audit(
        session,
        "erased",
        actor=actor,
        participant_id=participant_id,
        detail={"rows": sum(counts.values())},
        at=now,
    )
    log.info("participant erased", extra={"participant_id": participant_id})
    return counts


async def purge(session: AsyncSession, now: datetime, retention_days: int) -> dict[str, int]:
    """Delete conversation older than the retention period; returns rows per table."""
    cutoff = now - timedelta(days=retention_days)
    counts = await retention.purge_before(session, cutoff)
    counts["inbox"] += await conversation.forget_old_markers(session, now)
    people.audit(session, "purged", actor="system", detail=counts, at=now)
    return counts


@dataclass(frozen=True)
class EncryptedColumn:
    """One column holding Fernet tokens."""

    table: str
    key: str
    column: str


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of the schema, found from the column types."""
    from db.types import EncryptedJSON, EncryptedText

    found = []
    for table in Base.metadata.sorted_tables:
        primary = [column.name for column in table.primary_key.columns]
        for column in table.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON) and len(primary) == 1:
                found.append(EncryptedColumn(table.name, primary[0], column.name))
    return found


async def rotate_keys(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Re-encrypt every encrypted column, and the key check value, under the primary key,
    in small transactions while the bot runs; returns how many batches it took."""
    batches = 0
    for column in encrypted_columns():
        after: object = None
        while True:
            async with sessions() as session, session.begin():
                after = await rotate_column(session, column, after)
                batches += 1
            if after is None:
                break
    keyring = crypto.active()
    async with sessions() as session, session.begin():
        await keycheck.store_check(session, keyring.encrypt(keycheck.PLAIN), now)
        people.audit(
            session, "key_rotated", actor="cli", detail={"key": keyring.primary_id}, at=now
        )
    return batches


async def rotate_column(session: AsyncSession, column: EncryptedColumn, after: object) -> object:
    """Re-encrypt one batch of a column under the primary key; returns where to go on
    from (None when the column is done)."""
    keyring = crypto.active()
    rows = await retention.raw_tokens(
        session, column.table, column.key, column.column, after, ROTATE_BATCH
    )
    for key, token in rows:
        await retention.set_raw_token(
            session, column.table, column.key, column.column, key, keyring.rotate(token)
        )
    return rows[-1][0] if len(rows) == ROTATE_BATCH else None
