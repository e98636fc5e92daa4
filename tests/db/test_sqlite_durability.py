"""SQLite: the inbox commit must survive a power loss before Telegram hears the offset."""

from __future__ import annotations

from db.session import create_engine

FULL = 2


async def test_every_sqlite_commit_is_synced_to_disk(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            synchronous = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar()
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        assert synchronous == FULL
        assert journal == "wal"
    finally:
        await engine.dispose()
