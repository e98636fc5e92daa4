"""The long-lived things a running Oprit needs, and the scope of one update."""

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
from bot.ratelimit import FloodGate
from db.models import Participant, Staff


def worker_name() -> str:
    """Who claimed an outbox row or an update: host and process id."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass
class Runtime:
    """Settings, database and clock shared by the polling loop, handlers and jobs."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    keyring: Keyring
    worker: str = field(default_factory=worker_name)
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    bot_username: str = "oprit_bot"
    api_ok_at: datetime | None = None  # last time the Bot API answered (for /readyz)
    flood: FloodGate = field(default_factory=FloodGate)

    def wake_outbox(self) -> None:
        """Ask the sender to look at the outbox now instead of at the next tick."""
        self.outbox_wakeup.set()


@dataclass
class UpdateScope:
    """One update being processed: its transaction, its moment and who sent it."""

    session: AsyncSession
    now: datetime
    telegram_id: int | None = None
    chat_id: int | None = None
    thread_id: int | None = None
    participant: Participant | None = None
    staff: Staff | None = None
    stored_message_id: int | None = None
    choice: str | None = None
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
