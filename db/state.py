"""Small named values that survive restarts (the bot's username, the last heartbeat)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import KeyValue


async def get(session: AsyncSession, key: str) -> str | None:
    """The stored value, if any."""
    row = await session.get(KeyValue, key)
    return row.value if row else None


async def put(session: AsyncSession, key: str, value: str, now: datetime) -> None:
    """Store or replace a value."""
    row = await session.get(KeyValue, key)
    if row is None:
        session.add(KeyValue(key=key, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
