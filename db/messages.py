"""Stored messages: every message in or out, one row each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Message
from db.session import insert_for


async def insert_once(session: AsyncSession, **values: Any) -> Message | None:
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
