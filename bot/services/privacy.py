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

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.conversation import outbox
from bot.conversation.events import Address
from bot.crypto import (
    EncryptionKeyError,
    Keyring,
    generate_key,
    keys_in_file,
    write_key_file,
)
from bot.runtime import Runtime, Tx
from db import audit, inbox, keycheck, people, retention
from db.enums import Action, Channel
from db.models import Base
from db.types import EncryptedJSON, EncryptedText

log = logging.getLogger(__name__)

ROTATE_BATCH = 500
# Telegram lets a bot delete its own messages in private chats for 48 hours.
TELEGRAM_DELETE_WINDOW = timedelta(hours=47)


class PrivacyError(ValueError):
    """A request a person can fix (no such participant)."""


# Who sent a raw update (the channel's reader of its stored updates).
SenderOf = Callable[[dict[str, Any]], int | None]


async def erase(tx: Tx, participant_id: int, actor: str, sender_of: SenderOf) -> dict[str, int]:
    """Delete everything about one participant; returns how many rows went, per table."""
    session, now = tx.session, tx.now
    participant = await people.participant_by_id(session, participant_id)
    if participant is None:
        raise PrivacyError(f"no participant with id {participant_id}")
    group = tx.routing.officer_group
    if group is not None and participant.forum_topic_id:
        outbox.call(
            session,
            Action.THREAD_DELETE,
            Address(Channel.TELEGRAM, group),
            {"message_thread_id": participant.forum_topic_id},
            now=now,
        )
    for chat_id, message_id in await retention.staff_copies(
        session, participant, now - TELEGRAM_DELETE_WINDOW
    ):
        outbox.call(
            session,
            Action.MESSAGE_DELETE,
            Address(Channel.TELEGRAM, chat_id),
            {"message_id": message_id},
            now=now,
        )
    keyring = tx.runtime.keyring

    def stored_sender(token: str) -> int | None:
        try:
            payload = json.loads(keyring.decrypt(token))
        except EncryptionKeyError:
            return None  # unreadable with these keys: cannot be matched to anyone
        return sender_of(payload) if isinstance(payload, dict) else None

    counts = await retention.erase_participant(session, participant, stored_sender)
    audit.add(
        session,
        "erased",
        actor=actor,
        participant_id=participant_id,
        detail={"rows": sum(counts.values())},
        at=now,
    )
    log.info("participant erased", extra={"participant_id": participant_id})
    return counts


async def purge(
    session: AsyncSession,
    now: datetime,
    retention_days: int,
    table_done: Callable[[int], object] | None = None,
) -> dict[str, int]:
    """Delete conversation older than the retention period; returns rows per table
    (`table_done(1)` after each table, for a progress bar)."""
    cutoff = now - timedelta(days=retention_days)
    counts = await retention.purge_before(session, cutoff, table_done)
    counts["inbox"] += await inbox.forget_old_markers(session, now)
    audit.add(session, "purged", actor="system", detail=counts, at=now)
    return counts


@dataclass(frozen=True)
class EncryptedColumn:
    """One column holding Fernet tokens."""

    table: str
    key: str
    column: str


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of the schema, found from the column types."""
    found = []
    for table in Base.metadata.sorted_tables:
        primary = [column.name for column in table.primary_key.columns]
        for column in table.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON) and len(primary) == 1:
                found.append(EncryptedColumn(table.name, primary[0], column.name))
    return found


def add_primary_key(settings: Settings) -> None:
    """Put a new key first in the key file (the old ones stay, so everything can still be
    read while it is re-encrypted). Keys given in OPRIT_ENCRYPTION_KEY are changed by
    whoever sets it: the new key first, then `oprit keys rotate`."""
    if settings.encryption_key:
        return
    key_file = settings.data_dir / "oprit.key"
    if not key_file.exists():
        raise PrivacyError(f"no key file at {key_file}; start the bot once first")
    write_key_file(key_file, [generate_key(), *keys_in_file(key_file)])


async def tokens_to_rotate(runtime: Runtime) -> int:
    """How many stored tokens `rotate_keys` re-encrypts (for a progress bar)."""
    async with runtime.sessions() as session:
        return sum(
            [
                await retention.count_tokens(session, column.table, column.column)
                for column in encrypted_columns()
            ]
        )


async def rotate_keys(runtime: Runtime, rows_done: Callable[[int], object] | None = None) -> int:
    """Re-encrypt every encrypted column, and the key check value, under the primary key,
    in small transactions while the bot runs; returns how many batches it took.
    `rows_done(n)` hears of each batch's rows, for a progress bar."""
    keyring, batches = runtime.keyring, 0
    for column in encrypted_columns():
        after: object = None
        while True:
            async with runtime.sessions() as session, session.begin():
                after, rotated = await rotate_column(session, keyring, column, after)
                batches += 1
            if rows_done is not None:
                rows_done(rotated)
            if after is None:
                break
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        await keycheck.store_check(session, keyring.encrypt(keycheck.PLAIN), now)
        audit.add(session, "key_rotated", actor="cli", detail={"key": keyring.primary_id}, at=now)
    return batches


async def rotate_column(
    session: AsyncSession, keyring: Keyring, column: EncryptedColumn, after: object
) -> tuple[object, int]:
    """Re-encrypt one batch of a column under the primary key; returns where to go on
    from (None when the column is done) and how many rows it re-encrypted."""
    rows = await retention.raw_tokens(
        session, column.table, column.key, column.column, after, ROTATE_BATCH
    )
    for key, token in rows:
        await retention.set_raw_token(
            session, column.table, column.key, column.column, key, keyring.rotate(token)
        )
    return (rows[-1][0] if len(rows) == ROTATE_BATCH else None), len(rows)
