"""Putting many signed-up participants straight into a database, fast.

A copy of `tests/e2e/seed.py` that takes any database URL (SQLite or PostgreSQL), an
officer, and a first Telegram id, and inserts in bulk (one executemany per 10,000 rows).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import flows
from bot.app import open_runtime
from bot.engine import scheduler
from bot.runtime import Runtime
from db import state
from db.models import Participant
from tests.conftest import TEST_KEY, make_settings

FIRST_TELEGRAM_ID = 8_000_001
CHUNK = 10_000


async def runtime_for(database_url: str) -> Runtime:
    """A runtime (engine, keys, clock; the schema migrated) for seeding a database in the
    benchmark process."""
    return await open_runtime(make_settings(database_url=database_url, encryption_key=TEST_KEY))


async def migrate_database(database_url: str) -> None:
    """Bring a fresh database to the newest schema."""
    runtime = await runtime_for(database_url)
    await runtime.engine.dispose()


async def seed_participants(
    database_url: str,
    count: int,
    *,
    officer_id: int | None = None,
    languages: tuple[str, ...] = ("nl",),
    first_telegram_id: int = FIRST_TELEGRAM_ID,
) -> list[int]:
    """Create `count` active participants (of `officer_id`); returns their Telegram ids."""
    runtime = await runtime_for(database_url)
    try:
        now = runtime.clock.now()
        ids = [first_telegram_id + number for number in range(count)]
        async with runtime.sessions() as session, session.begin():
            for start in range(0, count, CHUNK):
                rows = [
                    {
                        "telegram_id": telegram_id,
                        "name": f"Deelnemer {start + offset}",
                        "language": languages[(start + offset) % len(languages)],
                        "status": "active",
                        "officer_id": officer_id,
                        "created_at": now - timedelta(days=30),
                        "consent_at": now - timedelta(days=30),
                        "missed_checkins": 0,
                    }
                    for offset, telegram_id in enumerate(ids[start : start + CHUNK])
                ]
                await session.execute(insert(Participant), rows)
            await quiet_schedule(session, runtime)
        return ids
    finally:
        await runtime.engine.dispose()


async def quiet_schedule(session: AsyncSession, runtime: Runtime) -> None:
    """Mark today's purge and the latest slot of every scheduled prompt as done, so a
    benchmark that happens to run on a Monday morning does not measure 10,000 check-in
    prompts."""
    settings, now = runtime.settings, runtime.clock.now()
    for flow in flows.prompted():
        assert flow.prompt is not None
        slot = scheduler.latest_slot(flow.prompt.schedule(settings), settings.tz, now)
        await state.put(session, flow.prompt.slot_key, slot.isoformat(), now)
    today = now.astimezone(settings.tz).date().isoformat()
    await state.put(session, scheduler.PURGE_KEY, today, now)


async def quiet(database_url: str) -> None:
    """`quiet_schedule` for a database filled by other means."""
    runtime = await runtime_for(database_url)
    try:
        async with runtime.sessions() as session, session.begin():
            await quiet_schedule(session, runtime)
    finally:
        await runtime.engine.dispose()


async def participant_ids(database_url: str, telegram_ids: list[int]) -> dict[int, int]:
    """Oprit ids of participants by Telegram id."""
    runtime = await runtime_for(database_url)
    try:
        async with runtime.sessions() as session:
            rows = await session.execute(
                select(Participant.telegram_id, Participant.id).where(
                    Participant.telegram_id.in_(telegram_ids)
                )
            )
            return {int(telegram_id): int(pid) for telegram_id, pid in rows.all()}
    finally:
        await runtime.engine.dispose()
