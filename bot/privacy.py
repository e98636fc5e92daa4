"""Subject rights and retention: erasing a participant, purging old conversation, and
re-encrypting everything under a new key.

Erasure removes every row about the person (the foreign keys cascade from the
participant row) and leaves one audit line with ids only. Purging deletes conversation
older than OPRIT_RETENTION_DAYS. Key rotation works in small batches while the bot runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import crypto, outbox
from bot.officer_alerts import Routing
from db import people, retention
from db.models import Base

log = logging.getLogger(__name__)

ROTATE_BATCH = 500


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
            "closeForumTopic",
            Routing.forum_chat_id,
            {"message_thread_id": participant.forum_topic_id},
            now=now,
        )
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
