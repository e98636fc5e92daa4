"""Jobs only one process may do at a time, on PostgreSQL with several workers.

Long polling (Telegram allows one poller per bot), broadcast sending and sending into
groups (the rate limits are per bot, so they must hold across all workers together) each
take a PostgreSQL
session-level advisory lock on a connection kept open for as long as the process holds
it. A second process simply waits for the lock instead of fighting. SQLite is the
single-process embedded database, so there the lock is always granted.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

POLLING = 0x0_0971_0001
BROADCASTS = 0x0_0971_0002
GROUPS = 0x0_0971_0003
SIGNAL = 0x0_0971_0004  # one process reads the Signal daemon's events


class AdvisoryLock:
    """A named lock held by at most one process using this database."""

    def __init__(self, engine: AsyncEngine, key: int) -> None:
        self._engine = engine
        self._key = key
        self._connection: AsyncConnection | None = None
        self.held = engine.dialect.name != "postgresql"

    async def try_acquire(self) -> bool:
        """Take the lock if it is free; True while this process holds it."""
        if self.held:
            return True
        connection = await self._engine.connect()
        try:
            got = bool(
                await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
                )
            )
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        await connection.commit()
        self._connection, self.held = connection, True
        log.info("lock acquired", extra={"lock": self._key})
        return True

    async def release(self) -> None:
        """Give the lock back (closing the connection releases it too)."""
        if self._connection is None:
            return
        with contextlib.suppress(Exception):
            await self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
            )
            await self._connection.close()
        self._connection = None
        self.held = False
