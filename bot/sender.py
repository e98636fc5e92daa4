"""The outbox sender: claims due rows, sends them, and records each outcome.

Sending is in priority order (a crisis answer first); each chat's rows go out one at a
time in order, different chats in parallel. `RetryAfter` waits as told; network errors
and 5xx back off exponentially with jitter; a block marks the person unreachable.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot

from bot import telegram_io
from bot.outbox import RESEND_AFTER_CRASH
from bot.runtime import Runtime
from bot.telegram_io import Blocked, Delivered, Failed, Outcome, RetryLater, ThreadGone
from db import outbox as outbox_db
from db import people
from db.models import Message, OutboxItem

log = logging.getLogger(__name__)

BATCH = 50
CLAIM_LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
STAFF_RETRY = timedelta(minutes=10)
MAX_PARALLEL_CHATS = 8


def backoff(attempts: int) -> float:
    """Seconds to wait after the n-th failed attempt: 1, 2, 4 … 300, with jitter."""
    base = min(300.0, 2.0 ** max(0, attempts - 1))
    return base * (0.75 + random.random() / 2)  # noqa: S311


class OutboxSender:
    """One per process; several processes on one database never send a row twice."""

    def __init__(self, runtime: Runtime, bot: Bot) -> None:
        self._runtime = runtime
        self._bot = bot

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set, sleeping until the next due row or a wake-up."""
        tick = self._runtime.settings.scheduler_tick.total_seconds()
        await self.recover()
        while not stop.is_set():
            self._runtime.outbox_wakeup.clear()
            try:
                sent = await self.send_due()
            except Exception:
                log.exception("outbox round failed")
                sent = 0
            if sent:
                continue
            waiter = asyncio.ensure_future(self._runtime.outbox_wakeup.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait(
                {waiter, stopper},
                timeout=await self._sleep_for(tick),
                return_when="FIRST_COMPLETED",
            )
            waiter.cancel()
            stopper.cancel()

    async def _sleep_for(self, tick: float) -> float:
        async with self._runtime.sessions() as session:
            due = await outbox_db.next_due_at(session)
        if due is None:
            return tick
        return max(0.05, min(tick, (due - self._runtime.clock.now()).total_seconds()))

    async def recover(self) -> None:
        """Deal with rows a crashed worker left half-sent."""
        async with self._runtime.sessions() as session, session.begin():
            again, dropped = await outbox_db.recover_abandoned(
                session, self._runtime.clock.now(), CLAIM_LEASE, RESEND_AFTER_CRASH
            )
        if again or dropped:
            log.warning(
                "recovered abandoned outbox rows", extra={"resent": again, "dropped": dropped}
            )

    async def send_due(self, kinds: tuple[str, ...] | None = None) -> int:
        """Claim and send one batch of due rows; returns how many were attempted."""
        async with self._runtime.sessions() as session, session.begin():
            items = await outbox_db.claim_due(
                session, self._runtime.worker, self._runtime.clock.now(), BATCH, kinds
            )
        by_chat: dict[int, list[OutboxItem]] = defaultdict(list)
        for item in items:
            by_chat[item.chat_id].append(item)
        limit = asyncio.Semaphore(MAX_PARALLEL_CHATS)

        async def chat_in_order(rows: list[OutboxItem]) -> None:
            async with limit:
                for row in rows:
                    await self._deliver(row)

        await asyncio.gather(*(chat_in_order(rows) for rows in by_chat.values()))
        return len(items)

    async def _deliver(self, item: OutboxItem) -> None:
        outcome = await telegram_io.send(self._bot, item, self._runtime.keyring)
        await self._record(item, outcome)

    async def _record(self, item: OutboxItem, outcome: Outcome) -> None:
        now = self._runtime.clock.now()
        async with self._runtime.sessions() as session, session.begin():
            match outcome:
                case Delivered(message_id):
                    await outbox_db.finish(
                        session, item.id, status="sent", sent_at=now, telegram_message_id=message_id
                    )
                    payload = item.payload or {}
                    session.add(
                        Message(
                            participant_id=item.participant_id,
                            staff_id=item.staff_id,
                            direction="out",
                            kind="document" if payload.get("attachment") else "text",
                            chat_id=item.chat_id,
                            telegram_message_id=message_id,
                            text=payload.get("text"),
                            at=now,
                        )
                    )
                case RetryLater(seconds, reason):
                    if item.attempts >= MAX_ATTEMPTS and reason != "flood control":
                        await outbox_db.finish(session, item.id, status="failed", error=reason)
                    else:
                        wait = seconds if seconds > 0 else backoff(item.attempts)
                        await outbox_db.finish(
                            session,
                            item.id,
                            status="pending",
                            due_at=now + timedelta(seconds=wait),
                            error=reason,
                        )
                case Blocked(reason):
                    await self._blocked(session, item, reason)
                case ThreadGone():
                    await outbox_db.finish(
                        session, item.id, status="pending", message_thread_id=None, due_at=now
                    )
                case Failed(reason):
                    log.warning("send refused", extra={"outbox_id": item.id, "error": reason})
                    await outbox_db.finish(session, item.id, status="failed", error=reason)

    async def _blocked(self, session: AsyncSession, item: OutboxItem, reason: str) -> None:
        now = self._runtime.clock.now()
        staff = await people.staff_by_telegram_id(session, item.chat_id)
        if staff is not None:
            staff.reachable = False
            await outbox_db.finish(
                session,
                item.id,
                status="pending",
                due_at=now + STAFF_RETRY,
                error="staff unreachable",
            )
            return
        await outbox_db.finish(session, item.id, status="blocked", error=reason[:200])
        if item.participant_id is not None:
            participant = await people.participant_by_id(session, item.participant_id)
            if participant is not None and participant.telegram_id == item.chat_id:
                participant.status = "unreachable"
