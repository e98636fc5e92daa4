"""What a running Oprit needs, passed in explicitly: the runtime of the process, one
transaction (`Tx`), and the scope of one update being handled.

Nothing here is a module-level global: the keyring, the metrics, where alerts go and the
flood-control waits are fields of the runtime, and services receive them through `Tx`.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Keyring
from bot.metrics import Metrics
from bot.ratelimit import FloodGate
from db.models import Participant, Staff


def worker_name() -> str:
    """Who claimed an outbox row or an update: host and process id."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass(frozen=True)
class Routing:
    """Where staff-facing messages go: the officer group of OPRIT_OFFICER_CHAT_ID (one
    topic per participant), or (None) each staff member's private chat."""

    officer_group: int | None = None


@dataclass
class Runtime:
    """Settings, database, clock, keys, metrics and routing of one process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    keyring: Keyring
    routing: Routing = field(default_factory=Routing)
    metrics: Metrics = field(default_factory=Metrics)
    flood: FloodGate = field(default_factory=FloodGate)
    worker: str = field(default_factory=worker_name)
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    bot_username: str = "oprit_bot"
    api_ok_at: datetime | None = None  # last time the Bot API answered (for /readyz)

    def wake_outbox(self) -> None:
        """Ask the sender to look at the outbox now instead of at the next tick."""
        self.outbox_wakeup.set()

    def tx(self, session: AsyncSession, now: datetime | None = None) -> Tx:
        """A unit of work in this session, at `now` (default: the clock's now)."""
        return Tx(session=session, now=now or self.clock.now(), runtime=self)


@dataclass
class Tx:
    """One transaction as services see it: the session, the moment, and the runtime."""

    session: AsyncSession
    now: datetime
    runtime: Runtime

    @property
    def settings(self) -> Settings:
        """The process's settings."""
        return self.runtime.settings

    @property
    def routing(self) -> Routing:
        """Where staff-facing messages go."""
        return self.runtime.routing


@dataclass
class UpdateScope(Tx):
    """One update being processed: its transaction and moment, who sent it, and what must
    happen once it is committed."""

    participant: Participant | None = None
    staff: Staff | None = None
    failed: BaseException | None = None
    after_commit: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    @property
    def participant_id(self) -> int | None:
        """The sender's participant id as loaded (never a database read, so it also works
        after the transaction was rolled back)."""
        if self.participant is None:
            return None
        value = self.participant.__dict__.get("id")
        return int(value) if value is not None else None


_scope: ContextVar[UpdateScope | None] = ContextVar("oprit_update_scope", default=None)


@contextmanager
def update_scope(scope: UpdateScope) -> Iterator[UpdateScope]:
    """Make `scope` the current update's scope while it is processed."""
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def current_scope() -> UpdateScope:
    """The scope of the update being handled (set by the inbox processor)."""
    scope = _scope.get()
    if scope is None:
        raise RuntimeError("no update is being processed")
    return scope
