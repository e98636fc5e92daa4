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
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import triage
from bot.conversation import outbox
from bot.crypto import EncryptionKeyError, Keyring
from bot.runtime import Runtime, UpdateScope, update_scope
from bot.services import integrity
from db import flow_states, people
from db import inbox as inbox_db
from db import outbox as outbox_db
from db.errors import CONFLICT_RETRIES, DatabaseTrouble, classify, is_outage
from db.flow_states import Owner
from db.write_queue import WritePriority, writing_as

log = logging.getLogger(__name__)

BATCH = 100
GROUP = 20  # updates per transaction
GROUP_SECONDS = 0.05  # and at most this long, so a reply or alert never waits for more
URGENT_FROM = triage.severity_rank("high")
UNDECRYPTABLE = "undecryptable"

ChatAndText = Callable[[dict[str, Any]], tuple[int | None, str | None]]
UpdateCallback = Callable[[dict[str, Any]], Awaitable[None]]
FailureCallback = Callable[[dict[str, Any], BaseException], Awaitable[None]]


def looks_urgent(text: str | None) -> bool:
    """Whether a message's text looks like a crisis in any language: a rough first look
    on the raw update; the real triage, in the participant's language, happens when the
    update is processed."""
    if not text:
        return False
    return triage.severity_rank(triage.classify(text, "").severity) >= URGENT_FROM


async def store(
    session: AsyncSession, payloads: Sequence[dict[str, Any]], now: datetime, read: ChatAndText
) -> tuple[int, bool]:
    """Store raw updates (before the channel is told we have them); `read` is the
    channel's reader of a raw update's chat and text. Returns how many were new and
    whether any looks urgent."""
    updates = []
    for payload in payloads:
        chat_id, text = read(payload)
        updates.append(
            inbox_db.NewUpdate(int(payload["update_id"]), payload, chat_id, looks_urgent(text))
        )
    urgent = any(update.urgent for update in updates)
    # Every answer starts with this write; a crisis message's alert too, so it goes first.
    with writing_as(WritePriority.CRISIS if urgent else WritePriority.DELIVERY):
        new = await inbox_db.store_updates(session, updates, now)
    return new, urgent


def crisis_first(rows: Iterable[inbox_db.LockedUpdate]) -> WritePriority:
    """A group holding an update that looked urgent when stored writes before the rest."""
    return WritePriority.CRISIS if any(row.urgent for row in rows) else WritePriority.ROUTINE


class InboxProcessor:
    """Processes stored updates in update_id order (per chat), one transaction per group."""

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
        """Process until `stop` is set; also picks up updates left by a crash. While the
        database is away, wait with backoff (nothing is marked failed meanwhile)."""
        outages = 0
        while not stop.is_set():
            self._wakeup.clear()
            pause = idle
            try:
                await self.process_pending()
                outages = 0
            except Exception as error:
                if is_outage(error):
                    outages += 1
                    pause = retry_delay(outages)
                    log.warning(
                        "database away; inbox waits",
                        extra={"error": type(error).__name__, "retry_in": round(pause, 1)},
                    )
                else:
                    log.exception("inbox processing failed; retrying")
                    pause = 1.0
            waiter = asyncio.ensure_future(self._wakeup.wait())
            stopper = asyncio.ensure_future(stop.wait())
            wanted = {stopper} if outages else {waiter, stopper}
            await asyncio.wait(wanted, timeout=pause, return_when="FIRST_COMPLETED")
            waiter.cancel()
            stopper.cancel()

    async def process_pending(self) -> int:
        """Process every stored update that may be handled now; returns how many were
        processed. Raises when the database is away."""
        done = 0
        async with self._lock:
            while True:
                self._urgent_stored = False
                async with self._runtime.sessions() as session:
                    ids = await inbox_db.pending_update_ids(session, BATCH)
                if not ids:
                    return done
                position = round_done = 0
                while position < len(ids) and not self._urgent_stored:
                    group = ids[position : position + GROUP]
                    result = await self._process_group(group)
                    if result is None:  # one of them failed: one transaction each
                        result = len(group), 0
                        for update_id in group:
                            round_done += await self._process(update_id)
                    consumed, processed = result
                    position += consumed
                    round_done += processed
                done += round_done
                if round_done == 0 and not self._urgent_stored:
                    return done  # what is left waits for another worker or an earlier update
                if position == len(ids) and len(ids) < BATCH:
                    return done

    async def _process_group(self, update_ids: list[int]) -> tuple[int, int] | None:
        """Handle several updates in one transaction, in order; returns how many ids were
        taken from the front of the list and how many of those were processed.

        One commit for several updates (a commit is most of an update's cost); each update
        still sees what the ones before it did. The group ends early after an update that
        queued an urgent message (the commit lets the sender have it at once), after
        GROUP_SECONDS, or when an urgent update was stored meanwhile. If any update fails,
        nothing of the group is kept (None) and the caller handles them one by one with
        `_process`; when the database is away, that is raised instead.
        """
        runtime = self._runtime
        finished: list[tuple[int, UpdateScope, float]] = []
        unreadable: list[int] = []
        consumed = 0
        deadline = time.perf_counter() + GROUP_SECONDS
        try:
            async with runtime.sessions() as session, session.begin():
                rows = {
                    row.update_id: row for row in await inbox_db.lock_updates(session, update_ids)
                }
                # A crisis message's writes go before everyone else's (db.write_queue).
                with writing_as(crisis_first(rows.values())):
                    chats = [row.chat_id for row in rows.values() if row.chat_id is not None]
                    staff, participants = await people.prefetch(session, chats)
                    await flow_states.prefetch(
                        session,
                        [Owner(staff_id=member.id) for member in staff]
                        + [Owner(participant_id=person.id) for person in participants],
                    )
                    for update_id in update_ids:
                        consumed += 1
                        row = rows.get(update_id)
                        if row is None:
                            continue  # done already, another worker has it, or it must wait
                        payload = readable_payload(runtime.keyring, row)
                        if payload is None:
                            unreadable.append(update_id)
                            continue
                        started = time.perf_counter()
                        scope = UpdateScope(
                            session=session, now=runtime.clock.now(), runtime=runtime
                        )
                        with update_scope(scope):
                            await self._handle(payload)
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
                    now = runtime.clock.now()
                    if finished:
                        await inbox_db.mark_processed(
                            session, [update_id for update_id, _scope, _started in finished], now
                        )
                    if unreadable:
                        await self._set_aside_unreadable(session, unreadable, now)
                    queued = outbox_db.queued_any(session)
        except Exception as error:
            if is_outage(error):
                raise
            log.info(
                "update group rolled back; one by one",
                extra={"update_ids": len(update_ids), "error": type(error).__name__},
            )
            return None
        for update_id, scope, started in finished:
            await self._after_commit(update_id, scope)
            self._count(update_id, scope.participant_id, time.perf_counter() - started)
        if queued:
            runtime.wake_outbox()
        return consumed, len(finished) + len(unreadable)

    async def _process(self, update_id: int) -> bool:
        """Handle one update in one transaction that also marks it processed.

        The row is locked inside that transaction (FOR UPDATE SKIP LOCKED on PostgreSQL),
        so another worker skips it, and a crash simply rolls the lock and the work back.
        A transaction that lost a race (serialization failure, deadlock, lock timeout, a
        unique key taken meanwhile) is tried again a few times before it counts as a bug;
        when the database is away, the error is raised and the update waits.
        """
        for attempt in range(1, CONFLICT_RETRIES + 2):
            try:
                return await self._process_once(update_id)
            except _Conflict as conflict:
                if attempt > CONFLICT_RETRIES:
                    return await self._give_up(update_id, conflict.error)
                log.info(
                    "update lost a race; trying again",
                    extra={"update_id": update_id, "error": type(conflict.error).__name__},
                )
                await asyncio.sleep(retry_delay(attempt, base=0.05, ceiling=2.0))
        return False

    async def _process_once(self, update_id: int) -> bool:
        runtime = self._runtime
        now = runtime.clock.now()
        started = time.perf_counter()
        scope: UpdateScope | None = None
        queued = True
        try:
            async with runtime.sessions() as session, session.begin():
                row = await inbox_db.lock_update(session, update_id)
                if row is None:
                    return False
                payload = readable_payload(runtime.keyring, row)
                if payload is None:
                    await self._set_aside_unreadable(session, [update_id], now)
                    return True
                scope = UpdateScope(session=session, now=now, runtime=runtime)
                with update_scope(scope), writing_as(crisis_first([row])):
                    await self._handle(payload)
                if scope.failed is not None:
                    raise scope.failed
                await inbox_db.mark_processed(session, [update_id], now)
                queued = outbox_db.queued_any(session)
        except Exception as error:
            trouble = classify(error)
            if trouble is DatabaseTrouble.OUTAGE:
                raise
            if trouble is DatabaseTrouble.CONFLICT:
                raise _Conflict(error) from error
            return await self._give_up(update_id, error)
        assert scope is not None
        await self._after_commit(update_id, scope)
        self._count(update_id, scope.participant_id, time.perf_counter() - started)
        if queued:
            runtime.wake_outbox()  # only when there is something to send: it costs queries
        return True

    async def _give_up(self, update_id: int, failure: BaseException) -> bool:
        """Our bug: keep the message, answer a crisis, apologise, then move on."""
        now = self._runtime.clock.now()
        log.error(
            "update failed",
            extra={"update_id": update_id, "error": type(failure).__name__},
            exc_info=failure,
        )
        runtime = self._runtime
        runtime.metrics.updates_processed.labels("failed").inc()
        scope: UpdateScope | None = None
        try:
            async with runtime.sessions() as session, session.begin():
                row = await inbox_db.lock_update(session, update_id)
                if row is None:
                    return True
                payload = readable_payload(runtime.keyring, row)
                if payload is not None:
                    scope = UpdateScope(session=session, now=now, runtime=runtime)
                    with update_scope(scope):
                        await self._handle_failure(payload, failure)
                await inbox_db.mark_processed(
                    session, [update_id], now, type(failure).__name__[:200], keep_payload=True
                )
        except Exception as error:
            if is_outage(error):
                raise
            log.exception("could not record failed update", extra={"update_id": update_id})
            await self._mark_only(update_id, "unrecoverable")
            return True
        if scope is not None:
            await self._after_commit(update_id, scope)
        self._runtime.wake_outbox()
        return True

    async def _set_aside_unreadable(
        self, session: AsyncSession, update_ids: list[int], now: datetime
    ) -> None:
        """Updates the configured keys cannot decrypt: kept as they are (never wiped),
        counted, and staff told once; the others go on."""
        await inbox_db.mark_processed(session, update_ids, now, UNDECRYPTABLE, keep_payload=True)
        self._runtime.metrics.undecryptable.labels("inbox").inc(len(update_ids))
        log.error("stored updates cannot be decrypted", extra={"count": len(update_ids)})
        await integrity.tell_staff_once(session, now)

    def _count(self, update_id: int, participant_id: int | None, elapsed: float) -> None:
        counters = self._runtime.metrics
        counters.processing_seconds.observe(elapsed)
        counters.updates_processed.labels("ok").inc()
        log.info(
            "update processed",
            extra={
                "update_id": update_id,
                "participant_id": participant_id,
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

    async def _mark_only(self, update_id: int, error: str) -> None:
        async with self._runtime.sessions() as session, session.begin():
            await inbox_db.mark_processed(
                session, [update_id], self._runtime.clock.now(), error, keep_payload=True
            )


class _Conflict(Exception):
    """A transaction lost a race with another one; worth trying again."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(type(error).__name__)
        self.error = error


def readable_payload(keyring: Keyring, row: inbox_db.LockedUpdate) -> dict[str, Any] | None:
    """The decrypted raw update; None when the configured keys cannot read it."""
    if row.token is None:
        return {"update_id": row.update_id}
    try:
        payload = json.loads(keyring.decrypt(row.token))
    except EncryptionKeyError:
        return None
    return payload if isinstance(payload, dict) else {"update_id": row.update_id}


def retry_delay(attempt: int, *, base: float = 0.5, ceiling: float = 30.0) -> float:
    """Exponential backoff with jitter: base, 2·base, 4·base … up to `ceiling`."""
    jitter = 0.75 + random.random() / 2  # noqa: S311
    return float(min(ceiling, base * 2 ** max(0, attempt - 1)) * jitter)
