"""One SQLite writer at a time per process, in line, most urgent first.

SQLite lets one connection write at a time. With a pool, a second writer waits in SQLite's
busy handler, which sleeps 1, 2, 5 … up to 100 ms a try and wakes in no order, and under
load those sleeps landed on crisis alerts (benchmarks/README: alert p99 3.3 s). Here a
transaction joins a queue at its first write statement and leaves it when it commits or
rolls back, which is exactly when SQLite holds its write lock: writers wait in line instead
of sleeping, a crisis message's transaction goes first (`writing_as`), and reads never
wait, so a long export or report does not hold up crisis processing.

Waiting is bounded like SQLite's own busy timeout: past it the write fails as "database is
locked", which callers already treat as a conflict to retry.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import IntEnum
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import MissingGreenlet, OperationalError
from sqlalchemy.util import await_only

WAIT_AT_MOST_SECONDS = 30.0  # the same as SQLite's busy_timeout (db.session)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


class WritePriority(IntEnum):
    """Who goes first when several transactions want to write."""

    CRISIS = 0  # an urgent update being handled: a crisis alert waits on this commit
    DELIVERY = 1  # storing fetched updates, claiming and recording sends
    ROUTINE = 2  # everything else


_priority: ContextVar[WritePriority] = ContextVar(
    "oprit_write_priority", default=WritePriority.ROUTINE
)


@contextmanager
def writing_as(priority: WritePriority) -> Iterator[None]:
    """Transactions started in this block (and tasks started from it) queue at `priority`."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


class WriteQueue:
    """The turn to write: held by one connection, handed to the most urgent waiter, first
    come first served within a priority."""

    def __init__(self) -> None:
        self._holder: object | None = None
        self._waiting: list[tuple[int, int, asyncio.Future[None], object]] = []
        self._arrivals = itertools.count()

    @property
    def waiting(self) -> int:
        """How many writers wait for their turn."""
        return sum(1 for _priority_of, _arrival, turn, _owner in self._waiting if not turn.done())

    @property
    def holder(self) -> object | None:
        """The connection whose turn it is (None: nobody writes)."""
        return self._holder

    async def acquire(self, owner: object, priority: WritePriority) -> None:
        """Wait for `owner`'s turn; raises TimeoutError after WAIT_AT_MOST_SECONDS."""
        if self._holder is None and not self._waiting:
            self._holder = owner
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), turn, owner))
        try:
            await asyncio.wait_for(asyncio.shield(turn), WAIT_AT_MOST_SECONDS)
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.release(owner)  # the turn came just as the wait ended: pass it on
            else:
                turn.cancel()
            raise

    def release(self, owner: object) -> None:
        """`owner` is done writing; the next waiter gets the turn."""
        if self._holder is not owner:
            return
        self._holder = None
        while self._waiting:
            _priority_of, _arrival, turn, waiter = heapq.heappop(self._waiting)
            if not turn.done():
                self._holder = waiter
                turn.set_result(None)
                return


_queues: WeakKeyDictionary[Engine, WriteQueue] = WeakKeyDictionary()


def queue_of(engine: Engine) -> WriteQueue | None:
    """The write queue of an engine (None: not SQLite, its database does it)."""
    return _queues.get(engine)


def install(engine: Engine) -> None:
    """Queue the writers of this (SQLite) engine's connections."""
    queue = _queues[engine] = WriteQueue()

    @event.listens_for(engine, "before_cursor_execute")
    def join(
        connection: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        owner = _raw(connection.connection)
        if queue.holder is owner or not statement.lstrip()[:8].upper().startswith(_WRITES):
            return
        try:
            await_only(queue.acquire(owner, _priority.get()))
        except MissingGreenlet:
            return  # plain synchronous use (no event loop): SQLite's own lock decides
        except TimeoutError:
            raise OperationalError(
                statement, None, sqlite3.OperationalError("database is locked (write queue)")
            ) from None

    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            queue.release(_raw(dbapi_connection))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            queue.release(_raw(dbapi_connection))

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    def gone(dbapi_connection: Any, *_details: Any) -> None:
        queue.release(dbapi_connection)

    for ending in ("close", "invalidate", "soft_invalidate", "close_detached", "detach"):
        event.listen(engine.pool, ending, gone)


def _raw(connection: Any) -> object:
    """The driver's connection behind the pool's proxy (the same object in every hook)."""
    return getattr(connection, "dbapi_connection", connection)
