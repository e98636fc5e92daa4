"""Worker heartbeats: which processes are alive, so the rows a dead one claimed are freed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import state
from db.models import KeyValue

PREFIX = "worker:"


async def beat(session: AsyncSession, worker: str, now: datetime) -> None:
    """This worker is alive now."""
    await state.put(session, PREFIX + worker, now.isoformat(), now)


async def dead(
    session: AsyncSession, workers: Sequence[str | None], silent_since: datetime, me: str
) -> list[str]:
    """Of these workers, the ones (other than me) that have not beaten since a moment."""
    names = [name for name in workers if name and name != me]
    if not names:
        return []
    beats = dict(
        (
            await session.execute(
                select(KeyValue.key, KeyValue.updated_at).where(
                    KeyValue.key.in_([PREFIX + name for name in names])
                )
            )
        ).all()
    )
    return [
        name for name in names if (last := beats.get(PREFIX + name)) is None or last < silent_since
    ]


async def alive(session: AsyncSession, since: datetime) -> int:
    """How many workers have beaten since a moment."""
    beats = await session.scalars(
        select(KeyValue.updated_at).where(KeyValue.key.like(PREFIX + "%"))
    )
    return sum(1 for moment in beats.all() if moment >= since)
