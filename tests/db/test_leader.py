"""Only one process polls and only one sends broadcasts (PostgreSQL advisory locks)."""

from __future__ import annotations

from bot.runtime import Runtime
from db import locks
from db.session import create_engine


async def test_second_process_waits_for_the_lock(runtime: Runtime) -> None:
    other_engine = create_engine(runtime.settings.database_url)
    first = locks.AdvisoryLock(runtime.engine, locks.POLLING)
    second = locks.AdvisoryLock(other_engine, locks.POLLING)
    try:
        assert await first.try_acquire()
        if runtime.engine.dialect.name == "postgresql":
            assert not await second.try_acquire()
            assert not await second.try_acquire()
            await first.release()
            assert await second.try_acquire()
        else:
            assert await second.try_acquire()  # SQLite: one process by design
        other = locks.AdvisoryLock(runtime.engine, locks.BROADCASTS)
        assert await other.try_acquire()  # different jobs do not block each other
        await other.release()
    finally:
        await first.release()
        await second.release()
        await other_engine.dispose()
