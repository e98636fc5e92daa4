"""Small named values that survive restarts (the bot's username, the last heartbeat)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import KeyValue
from db.session import insert_for


async def get(session: AsyncSession, key: str) -> str | None:
    """The stored value, if any."""
    row = await session.get(KeyValue, key)
    return row.value if row else None


async def put(session: AsyncSession, key: str, value: str, now: datetime) -> None:
    """Store or replace a value, in one statement: two workers starting at the same moment
    both store the bot's username and a heartbeat, and a read-then-insert let one of them
    die on the primary key."""
    insert = insert_for(session)
    statement = insert(KeyValue).values(key=key, value=value, updated_at=now)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
    )


async def compare_and_set(
    session: AsyncSession, key: str, value: str, now: datetime, *, participant_id: int | None = None
) -> bool:
    """Set `key` to `value` unless it already has that value; True when this call set it.
    `participant_id` links a value about one participant to them (erased with them).

    The UPDATE … WHERE value <> :value is atomic, and a first INSERT races on the primary
    key, so of two workers only one ever gets True for the same value.
    """
    result = await session.execute(
        update(KeyValue)
        .where(KeyValue.key == key, KeyValue.value != value)
        .values(value=value, updated_at=now)
    )
    if getattr(result, "rowcount", 0) == 1:
        return True
    if await session.get(KeyValue, key) is not None:
        return False
    insert = insert_for(session)
    created = await session.execute(
        insert(KeyValue)
        .values(key=key, value=value, updated_at=now, participant_id=participant_id)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return getattr(created, "rowcount", 0) == 1
