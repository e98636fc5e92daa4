"""The inbox: updates are stored before Telegram is told we have them, then processed.

Processing one update is one database transaction: the stored message, the flow step,
the triage verdict, alerts and the queued replies commit together with the mark that
the update is done. A crash before the commit leaves the update unprocessed, so it is
processed again after a restart; after the commit it is never processed twice.

Updates are processed oldest first, except that a chat whose message looks like a crisis
(a quick triage when the update is stored) goes before the backlog of other chats, with
its own earlier updates, so a crisis alert never waits behind a burst of everyday messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics, outbox, triage
from bot.runtime import Runtime, UpdateScope, update_scope
from db import conversation, people
from db import outbox as outbox_db

log = logging.getLogger(__name__)

BATCH = 100
GROUP = 20  # updates per transaction
GROUP_SECONDS = 0.05  # and at most this long, so a reply or alert never waits for more
URGENT_FROM = triage.severity_rank("high")
MESSAGE_KEYS = ("message", "edited_message", "business_message", "edited_business_message")

UpdateCallback = Callable[[dict[str, Any]], Awaitable[None]]
FailureCallback = Callable[[dict[str, Any], BaseException], Awaitable[None]]


def ordering_fields(payload: dict[str, Any]) -> tuple[int | None, bool]:
    """The chat of a raw update and whether its text looks like a crisis in any language.

    Runs on the raw JSON before anything else (never raises on a malformed update); the
    real triage, in the participant's language, happens when the update is processed."""
    message: Any = next((payload[key] for key in MESSAGE_KEYS if key in payload), None)
    if message is None and isinstance(payload.get("callback_query"), dict):
        message = payload["callback_query"].get("message")
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        return None, False
    chat_id = message["chat"].get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        return None, False
    text = message.get("text") or message.get("caption")
    if not isinstance(text, str) or not text:
        return chat_id, False
    return chat_id, triage.severity_rank(triage.classify(text, "").severity) >= URGENT_FROM


async def store(
    session: AsyncSession, payloads: Sequence[dict[str, Any]], now: datetime
) -> tuple[int, bool]:
    """Store raw updates (before Telegram is told we have them); returns how many were new
    and whether any looks urgent."""
    updates = [
        conversation.NewUpdate(int(payload["update_id"]), payload, *ordering_fields(payload))
        for payload in payloads
    ]
    new = await conversation.store_updates(session, updates, now)
    return new, any(update.urgent for update in updates)


class InboxProcessor:
    """Processes stored updates in update_id order, one transaction each."""

    def __init__(
        self, runtime: Runtime, handle: UpdateCallback, handle_failure: FailureCallback
    ) -> None:
        self._runtime = runtime
        self._handle = handle
        self._handle_failure = handle_failure
        self._wakeup = asyncio.Event()
        self._lock = asyncio.Lock()
        self._urgent_stored = False

    def wake(self, urgent: bool = False) -> None:
        """New updates were stored; `urgent` ones go before the rest of the batch."""
        self._urgent_stored = self._urgent_stored or urgent
        self._wakeup.set()

    async def run(self, stop: asyncio.Event, idle: float = 5.0) -> None:
        """Process until `stop` is set; also picks up updates left by a crash."""
        while not stop.is_set():
            self._wakeup.clear()
            try:
                await self.process_pending()
            except Exception:
                log.exception("inbox processing failed; retrying")
            waiter = asyncio.ensure_future(self._wakeup.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=idle, return_when="FIRST_COMPLETED")
            waiter.cancel()
            stopper.cancel()

    async def process_pending(self) -> int:
        """Process every stored, unprocessed update; returns how many were processed."""
        done = 0
        async with self._lock:
            while True:
                self._urgent_stored = False
                async with self._runtime.sessions() as session:
                    ids = await conversation.pending_update_ids(session, BATCH)
                if not ids:
                    return done
                position = 0
                while position < len(ids) and not self._urgent_stored:
                    group = ids[position : position + GROUP]
                    result = await self._process_group(group)
                    if result is None:  # one of them failed: one transaction each
                        result = len(group), 0
                        for update_id in group:
                            done += await self._process(update_id)
                    consumed, processed = result
                    position += consumed
                    done += processed
                if position == len(ids) and len(ids) < BATCH:
                    return done

    async def _process_group(self, update_ids: list[int]) -> tuple[int, int] | None:
        """Handle several updates in one transaction, in order; returns how many ids were
        taken from the front of the list and how many of those were processed.

        A commit per update was most of an update's cost; each update still sees what the
        ones before it did. The group ends early after an update that queued an urgent
        message (the commit lets the sender have it at once), after GROUP_SECONDS, or when
        an urgent update was stored meanwhile. If any update fails, nothing of the group
        is kept (None) and the caller handles them one by one with `_process`.
        """
        runtime = self._runtime
        finished: list[tuple[int, UpdateScope, float]] = []
        consumed = 0
        deadline = time.perf_counter() + GROUP_SECONDS
        try:
            async with runtime.sessions() as session, session.begin():
                rows = {
                    row.update_id: row
                    for row in await conversation.lock_updates(session, update_ids)
                }
                chats = [row.chat_id for row in rows.values() if row.chat_id is not None]
                await people.prefetch(session, chats)
                await conversation.prefetch_flow_states(session, chats)
                for update_id in update_ids:
                    consumed += 1
                    row = rows.get(update_id)
                    if row is None:
                        continue  # done already, or another worker has it
                    started = time.perf_counter()
                    scope = UpdateScope(session=session, now=runtime.clock.now())
                    with update_scope(scope):
                        await self._handle(row.payload or {"update_id": update_id})
                    if scope.failed is not None:
                        raise scope.failed
                    finished.append((update_id, scope, started))
                    urgent = outbox_db.most_urgent_queued(session)
                    if (
                        (urgent is not None and urgent < outbox.PRIORITY_REPLY)
                        or self._urgent_stored
                        or time.perf_counter() > deadline
                    ):
                        break
                if finished:
                    await conversation.mark_processed(
                        session,
                        [update_id for update_id, _scope, _started in finished],
                        runtime.clock.now(),
                    )
                queued = outbox_db.queued_any(session)
        except Exception as error:
            log.info(
                "update group rolled back; one by one",
                extra={"update_ids": len(update_ids), "error": type(error).__name__},
            )
            return None
        for update_id, scope, started in finished:
            await self._after_commit(update_id, scope)
            self._count(update_id, scope, time.perf_counter() - started, failed=False)
        if queued:
            runtime.wake_outbox()
        return consumed, len(finished)

    async def _process(self, update_id: int) -> bool:
        """Handle one update in one transaction that also marks it processed.

        The row is locked inside that transaction (FOR UPDATE SKIP LOCKED on PostgreSQL),
        so another worker skips it, and a crash simply rolls the lock and the work back.
        """
        runtime = self._runtime
        now = runtime.clock.now()
        started = time.perf_counter()
        failure: BaseException | None = None
        scope: UpdateScope | None = None
        queued = True
        try:
            async with runtime.sessions() as session, session.begin():
                row = await conversation.lock_update(session, update_id)
                if row is None:
                    return False
                payload: dict[str, Any] = row.payload or {"update_id": update_id}
                scope = UpdateScope(session=session, now=now)
                with update_scope(scope):
                    await self._handle(payload)
                if scope.failed is not None:
                    raise scope.failed
                await conversation.mark_processed(session, [update_id], now)
                queued = outbox_db.queued_any(session)
        except IntegrityError:
            log.info("update already stored by another worker", extra={"update_id": update_id})
            await self._mark_only(update_id, "duplicate")
            metrics.current().updates_processed.labels("duplicate").inc()
            return True
        except Exception as error:
            failure = error
        if failure is None and scope is not None:
            await self._after_commit(update_id, scope)
        elif failure is not None:
            await self._record_failure(update_id, now, failure)
        self._count(update_id, scope, time.perf_counter() - started, failed=failure is not None)
        if queued or failure is not None:
            runtime.wake_outbox()  # only when there is something to send: it costs queries
        return True

    def _count(
        self, update_id: int, scope: UpdateScope | None, elapsed: float, *, failed: bool
    ) -> None:
        counters = metrics.current()
        counters.processing_seconds.observe(elapsed)
        counters.updates_processed.labels("failed" if failed else "ok").inc()
        log.info(
            "update processed",
            extra={
                "update_id": update_id,
                "participant_id": scope.participant.id if scope and scope.participant else None,
                "latency_ms": round(elapsed * 1000, 1),
            },
        )

    async def _after_commit(self, update_id: int, scope: UpdateScope) -> None:
        for action in scope.after_commit:
            try:
                await action()
            except Exception as error:
                log.warning(
                    "after-commit action failed",
                    extra={"update_id": update_id, "error": type(error).__name__},
                )

    async def _record_failure(self, update_id: int, now: datetime, failure: BaseException) -> None:
        """Our bug: keep the message and apologise in a fresh transaction, then move on."""
        log.error(
            "update failed",
            extra={"update_id": update_id, "error": type(failure).__name__},
            exc_info=failure,
        )
        try:
            async with self._runtime.sessions() as session, session.begin():
                row = await conversation.lock_update(session, update_id)
                if row is None:
                    return
                with update_scope(UpdateScope(session=session, now=now)):
                    await self._handle_failure(row.payload or {}, failure)
                await conversation.mark_processed(
                    session, [update_id], now, type(failure).__name__[:200]
                )
        except Exception:
            log.exception("could not record failed update", extra={"update_id": update_id})
            await self._mark_only(update_id, "unrecoverable")

    async def _mark_only(self, update_id: int, error: str) -> None:
        async with self._runtime.sessions() as session, session.begin():
            await conversation.mark_processed(
                session, [update_id], self._runtime.clock.now(), error
            )
