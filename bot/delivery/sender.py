"""The outbox sender: claims due rows, sends them, and records each outcome.

Rows go out most urgent first. Each chat has its own task that sends that chat's rows in
order, so a slow chat (a forum group at 20 messages a minute) never holds up an alert to
an officer's private chat. `RetryAfter` waits as told, and nothing else goes to that chat
meanwhile (to anyone, when Telegram's answer named no chat); network errors and 5xx back
off exponentially with jitter; what an outcome means beyond its row (a block, a relay to
confirm) is bot.delivery.outcomes.
Every row passes Telegram's limit of about 30 a second, where waiting rows go most urgent
first, broadcast rows also OPRIT_BROADCAST_RATE attempts per second (counted by the same
limiter, so waiting for one never counts against the other), group chats Telegram's 20 a
minute. Of those 30, safety answers and high or critical alerts always go first; a
running broadcast has its rate kept for it (up to BROADCAST_KEPT_AT_MOST), and routine
replies share the rest: lowest in priority, a broadcast would otherwise wait behind every
acknowledgement of a busy hour.

A broadcast row records when its request starts, so after a stop or a crash a row that
was claimed but never attempted goes out again, and one that may have arrived is never
sent twice (`unknown`). On a normal stop, in-flight sends finish and the rest is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.conversation import outbox
from bot.conversation.outbox import NO_RESEND_AFTER_CRASH
from bot.crypto import EncryptionKeyError
from bot.delivery import outcomes
from bot.delivery.outcomes import TOPIC_BUSY, backoff
from bot.delivery.results import OutboundChannel, Outcome, RetryLater
from bot.ratelimit import SlidingWindowLimiter
from bot.runtime import Runtime
from bot.services import integrity, threads
from db import locks, people, topics, workers
from db import outbox as outbox_db
from db.enums import OutboxStatus
from db.errors import CONFLICT_RETRIES, DatabaseTrouble, classify, is_outage
from db.outbox import ClaimedRow
from db.write_queue import WritePriority, writing_as

log = logging.getLogger(__name__)

BATCH = 100
PER_CHAT = 5
PER_GROUP_CHAT = 1  # the group's 20 a minute: claim one at a time so the most urgent goes next
DEAD_AFTER_MIN = timedelta(seconds=10)
TOPIC_BUSY_RETRY = timedelta(seconds=2)
STOP_GRACE_SECONDS = 10.0
RECORD_RETRY_SECONDS = 0.5  # storing an outcome again: first wait, doubling up to 30 s
# Rows that are not urgent (replies, reminders, prompts, broadcasts) are claimed about this
# many seconds of sending ahead, not all at once: a claimed row holds its chat (a safety
# reply to that person would wait behind it), waits in memory, and a broadcast row claimed
# by a worker that dies is never sent again. Urgent rows are always claimed at once.
AHEAD_SECONDS = 2
TELEGRAM_PER_SECOND = 30
GROUP_PER_WINDOW = 20
GROUP_WINDOW_SECONDS = 60.0
# Of Telegram's 30 a second, this many are kept for safety answers and high or critical
# alerts, so an alert never waits for a slot behind a broadcast (benchmarks/RESULTS.md)...
URGENT_RESERVE = 5
# ... and this many while urgent messages went out within the last second: crisis
# messages come in waves.
URGENT_RESERVE_IN_A_WAVE = 12
# A running broadcast keeps its rate ahead of routine replies, but at most this many of the
# 30: the rest is the urgent reserve and at least 5 a second for replies, so a participant's
# acknowledgement never waits for a whole broadcast.
BROADCAST_KEPT_AT_MOST = 20
UNDECRYPTABLE = "undecryptable"


Lane = tuple[int, bool]  # a chat, and whether this is its urgent lane


def is_group(chat_id: int) -> bool:
    """Telegram's groups and channels have negative ids."""
    return chat_id < 0


class OutboxSender:
    """One per process; several processes on one database never send a row twice."""

    def __init__(self, runtime: Runtime, channels: Mapping[str, OutboundChannel]) -> None:
        self._runtime = runtime
        self._channels = channels
        # A chat's rows go out in order in its lane; while that lane waits (a copy for an
        # officer waiting for a slot under load), an urgent lane sends the chat's safety
        # answers and alerts beside it.
        self._chat_tasks: dict[Lane, asyncio.Task[None]] = {}
        self._unstarted: dict[Lane, list[ClaimedRow]] = {}
        self._stopping = False
        self._started_at = runtime.clock.now()
        # Telegram's ~30 messages a second for the whole bot, most urgent row first: rows
        # that wait in python-telegram-bot's own limiter would wait first come, first served,
        # and a crisis alert would queue behind every acknowledgement claimed before it.
        self.send_limit = SlidingWindowLimiter(
            TELEGRAM_PER_SECOND,
            reserve=URGENT_RESERVE,
            reserve_while_urgent=URGENT_RESERVE_IN_A_WAVE,
            urgent_below=outbox.PRIORITY_REPLY,
            paced=min(math.floor(runtime.settings.broadcast_rate), BROADCAST_KEPT_AT_MOST),
            paced_at_most=math.floor(runtime.settings.broadcast_rate),
        )
        if runtime.engine.dialect.name == "postgresql":
            # Telegram's 30 a second are per bot: until the heartbeats say how many
            # workers share the database, assume another one may be starting too.
            self.send_limit.share(2)
        self._group_limits: dict[int, SlidingWindowLimiter] = {}
        self._broadcasts_claimed = 0
        self._routine_claimed = 0
        self.broadcast_lock = locks.AdvisoryLock(runtime.engine, locks.BROADCASTS)
        # Telegram counts a group's 20 a minute per bot: one worker sends into groups.
        self.group_lock = locks.AdvisoryLock(runtime.engine, locks.GROUPS)

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set, sleeping until the next due row or a wake-up. Its
        writes (claims, outcomes) queue before routine work: people wait on them."""
        with writing_as(WritePriority.DELIVERY):
            await self._run(stop)

    async def _run(self, stop: asyncio.Event) -> None:
        tick = self._runtime.settings.scheduler_tick.total_seconds()
        last_recovery = -tick
        loop = asyncio.get_running_loop()
        outages = 0
        while not stop.is_set():
            self._runtime.outbox_wakeup.clear()
            if loop.time() - last_recovery >= tick:
                last_recovery = loop.time()
                try:
                    await self.recover()
                except Exception as error:
                    self._log_round_error("outbox recovery failed", error)
            try:
                claimed = await self._claim_and_start()
                outages = 0
            except Exception as error:
                self._log_round_error("outbox round failed", error)
                outages += is_outage(error)
                claimed = 0
            if claimed:
                await asyncio.sleep(0)
                continue
            waiter = asyncio.ensure_future(self._runtime.outbox_wakeup.wait())
            stopper = asyncio.ensure_future(stop.wait())
            # A chat's task wakes us when it is done (not waited on here: that would be a
            # callback per task on every round).
            pause = await self._pause(tick, outages)
            await asyncio.wait({waiter, stopper}, timeout=pause, return_when="FIRST_COMPLETED")
            waiter.cancel()
            stopper.cancel()
        await self.stop_sending()

    @staticmethod
    def _log_round_error(message: str, error: Exception) -> None:
        if is_outage(error):
            log.warning("database away; outbox waits", extra={"error": type(error).__name__})
        else:
            log.error(message, exc_info=error)

    async def stop_sending(self) -> None:
        """A normal stop: sends under way finish, claimed rows not yet attempted go back to
        pending (for the next start or another worker), then the locks are released."""
        self._stopping = True
        tasks = [task for task in self._chat_tasks.values() if not task.done()]
        if tasks:
            _done, late = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*late, return_exceptions=True)
        waiting = [row.id for rows in self._unstarted.values() for row in rows]
        if waiting:
            with contextlib.suppress(Exception):
                async with self._runtime.sessions() as session, session.begin():
                    released = await outbox_db.release(session, self._runtime.worker, waiting)
                log.info("claimed rows released at stop", extra={"count": released})
        self._unstarted.clear()
        await self.broadcast_lock.release()
        await self.group_lock.release()

    async def send_due(self) -> int:
        """Claim everything due now and wait until it was attempted (tests, one-shot use)."""
        claimed = await self._claim_and_start()
        await asyncio.gather(*list(self._chat_tasks.values()), return_exceptions=True)
        self._chat_tasks.clear()
        return claimed

    def _dead_after(self) -> timedelta:
        return max(DEAD_AFTER_MIN, self._runtime.settings.scheduler_tick * 3)

    async def _pause(self, tick: float, outages: int) -> float:
        """How long to sleep: backing off while the database is away, else until the next
        due row. Never raises: the sender must outlive any database trouble."""
        if not outages:
            try:
                return await self._sleep_for(tick)
            except Exception as error:
                self._log_round_error("outbox sleep planning failed", error)
                outages = 1
        return min(30.0, 0.5 * 2.0**outages)

    async def _sleep_for(self, tick: float) -> float:
        async with self._runtime.sessions() as session:
            due = await outbox_db.next_due_at(session)
        if due is None:
            return tick
        return max(0.05, min(tick, (due - self._runtime.clock.now()).total_seconds()))

    async def recover(self) -> None:
        """Deal with rows a dead worker left half-sent (its heartbeat stopped), and take
        this worker's share of Telegram's per-bot limit."""
        now = self._runtime.clock.now()
        async with self._runtime.sessions() as session, session.begin():
            await workers.beat(session, self._runtime.worker, now)
            if self._runtime.engine.dialect.name == "postgresql":
                alive = await workers.alive(session, now - self._dead_after())
                if now - self._started_at < self._dead_after():
                    alive = max(alive, 2)  # a worker starting next to us has not beaten yet
                self.send_limit.share(alive)
            dead = await workers.dead(
                session,
                await outbox_db.claimants(session),
                now - self._dead_after(),
                self._runtime.worker,
            )
            again, dropped = await outbox_db.recover_abandoned(session, dead, NO_RESEND_AFTER_CRASH)
        if again or dropped:
            log.warning(
                "recovered abandoned outbox rows", extra={"resent": again, "dropped": dropped}
            )

    async def _claim_and_start(self) -> int:
        if self._stopping:
            return 0
        self._chat_tasks = {lane: t for lane, t in self._chat_tasks.items() if not t.done()}
        busy = {chat for chat, urgent in self._chat_tasks if not urgent}
        sends_broadcasts = await self.broadcast_lock.try_acquire()
        sends_to_groups = await self.group_lock.try_acquire()
        ahead = (self.send_limit.paced_at_most or 1) * AHEAD_SECONDS - self._broadcasts_claimed
        routine = TELEGRAM_PER_SECOND * AHEAD_SECONDS - self._routine_claimed
        async with self._runtime.sessions() as session, session.begin():
            items = await outbox_db.claim_due(
                session,
                self._runtime.worker,
                self._runtime.clock.now(),
                BATCH,
                per_chat=PER_CHAT,
                per_group_chat=PER_GROUP_CHAT,
                busy_chats=busy,
                urgent_busy_chats={chat for chat, urgent in self._chat_tasks if urgent},
                urgent_below=outbox.PRIORITY_REPLY,
                exclude_kinds=() if sends_broadcasts and ahead > 0 else ("broadcast",),
                include_groups=sends_to_groups,
                max_broadcasts=max(0, ahead),
                max_routine=max(0, routine),
                routine_priority=outbox.PRIORITY_REPLY,
                one_per_chat=(outbox.STAFF_COPY, outbox.STAFF_COPY_EDIT),
            )
        by_chat: dict[int, list[ClaimedRow]] = {}
        for item in items:
            by_chat.setdefault(item.chat_id, []).append(item)
            self._count_claimed(item, 1)
        for chat_id, rows in by_chat.items():
            lane = (chat_id, chat_id in busy)
            self._unstarted[lane] = list(rows)
            self._chat_tasks[lane] = asyncio.create_task(self._send_lane(lane))
        return len(items)

    async def _send_lane(self, lane: Lane) -> None:
        """Send one lane's claimed rows in order. `_unstarted` holds the rows whose request
        has not started yet: the ones a stop releases."""
        for row in list(self._unstarted.get(lane, [])):
            if self._stopping:
                return
            try:
                held = await self._deliver(row, lane)
                if held is not None:  # flood control: the rest of this lane waits too
                    waiting = self._unstarted.pop(lane, [])
                    await self._postpone(waiting, held)
                    for other in waiting:
                        if other is not row:
                            self._count_claimed(other, -1)
                    self._count_claimed(row, -1)
                    break
            except Exception as error:
                attempted = not self._take_unstarted(lane, row)
                if is_outage(error):
                    log.warning("database away while sending", extra={"outbox_id": row.id})
                else:
                    log.exception("sending one outbox row failed", extra={"outbox_id": row.id})
                await self._finish_after_error(row, attempted)
            self._count_claimed(row, -1)
        if not self._unstarted.get(lane):
            self._unstarted.pop(lane, None)
        self._runtime.wake_outbox()

    def _count_claimed(self, item: ClaimedRow, change: int) -> None:
        if item.kind == "broadcast":
            self._broadcasts_claimed += change
        elif item.priority >= outbox.PRIORITY_REPLY:
            self._routine_claimed += change

    async def _finish_after_error(self, item: ClaimedRow, attempted: bool) -> None:
        """A row whose send or its record failed goes again later, unless its request had
        started and it must never go twice: it may have arrived, so it ends `unknown`."""
        with contextlib.suppress(Exception):
            async with self._runtime.sessions() as session, session.begin():
                if attempted and item.kind in NO_RESEND_AFTER_CRASH:
                    await outbox_db.finish(
                        session, item.id, status=OutboxStatus.UNKNOWN, error="internal error"
                    )
                    return
                await outbox_db.finish(
                    session,
                    item.id,
                    status=OutboxStatus.PENDING,
                    due_at=self._runtime.clock.now() + timedelta(seconds=backoff(item.attempts)),
                    error="internal error",
                    attempt_started_at=None,
                )

    async def _postpone(self, rows: list[ClaimedRow], until: datetime) -> None:
        """Rows of a chat under flood control go back to pending until it is over."""
        async with self._runtime.sessions() as session, session.begin():
            for row in rows:
                await outbox_db.finish(
                    session,
                    row.id,
                    status=OutboxStatus.PENDING,
                    due_at=until,
                    error="flood control",
                )
            await outbox_db.postpone_chat(session, rows[0].chat_id, until)

    def _held_until(self, chat_id: int) -> datetime | None:
        """When flood control for this chat (or for the whole bot) ends, if it has not."""
        gate = self._runtime.flood
        until = max(
            (moment for moment in (gate.until(chat_id), gate.until(None)) if moment is not None),
            default=None,
        )
        return until if until is not None and until > self._runtime.clock.now() else None

    async def _deliver(self, item: ClaimedRow, lane: Lane) -> datetime | None:
        """Send one row and record the outcome; returns a moment when the chat is under
        flood control and the row was not sent."""
        held = self._held_until(item.chat_id)
        if held is not None:
            return held
        if not self._readable(item):
            await self._set_aside(item)
            return None
        channel = self._channels[item.channel]
        forum_chat = self._runtime.routing.officer_group
        if item.chat_id == forum_chat and item.message_thread_id is None and item.participant_id:
            thread = await self._ensure_topic(channel, item.participant_id)
            if thread is None:
                await self._record(item, RetryLater(TOPIC_BUSY_RETRY.total_seconds(), TOPIC_BUSY))
                return None
            item.message_thread_id = thread
        async with contextlib.AsyncExitStack() as slots:
            if is_group(item.chat_id):
                await slots.enter_async_context(self._group_limit(item.chat_id).slot(item.priority))
            await slots.enter_async_context(
                self.send_limit.slot(item.priority, paced=item.kind == "broadcast")
            )
            if self._stopping:
                return None  # stays unstarted: released by the stop
            if item.kind in NO_RESEND_AFTER_CRASH:
                await self._mark_attempt(item)
            self._take_unstarted(lane, item)
            outcome = await channel.send(item, NO_RESEND_AFTER_CRASH)
        await self._record_until_stored(item, outcome)
        if isinstance(outcome, RetryLater) and outcome.flood_control:
            until = self._runtime.clock.now() + timedelta(seconds=outcome.seconds)
            self._runtime.flood.hold(item.chat_id, until)
        return None

    def _take_unstarted(self, lane: Lane, item: ClaimedRow) -> bool:
        """Whether the row was still waiting for its request to start."""
        try:
            self._unstarted[lane].remove(item)
        except (ValueError, KeyError):
            return False
        return True

    def _group_limit(self, chat_id: int) -> SlidingWindowLimiter:
        if chat_id not in self._group_limits:
            self._group_limits[chat_id] = SlidingWindowLimiter(
                GROUP_PER_WINDOW, window=GROUP_WINDOW_SECONDS
            )
        return self._group_limits[chat_id]

    def _readable(self, item: ClaimedRow) -> bool:
        try:
            payload = json.loads(self._runtime.keyring.decrypt(item.token))
        except EncryptionKeyError:
            return False
        item.payload = payload if isinstance(payload, dict) else {}
        return True

    async def _set_aside(self, item: ClaimedRow) -> None:
        """A row the configured keys cannot decrypt fails alone (its payload is kept)."""
        self._runtime.metrics.undecryptable.labels("outbox").inc()
        log.error("outbox row cannot be decrypted", extra={"outbox_id": item.id})
        async with self._runtime.sessions() as session, session.begin():
            await outbox_db.finish(
                session, item.id, status=OutboxStatus.FAILED, error=UNDECRYPTABLE
            )
            await integrity.tell_staff_once(session, self._runtime.clock.now())

    async def _mark_attempt(self, item: ClaimedRow) -> None:
        async with self._runtime.sessions() as session, session.begin():
            await outbox_db.finish(session, item.id, attempt_started_at=self._runtime.clock.now())

    async def _ensure_topic(self, channel: OutboundChannel, participant_id: int) -> int | None:
        """The participant's thread in the officer group, made once (None: another
        worker is making it)."""
        forum_chat = self._runtime.routing.officer_group
        assert forum_chat is not None
        async with self._runtime.sessions() as session, session.begin():
            current = await topics.claim_topic_creation(session, participant_id)
            participant = await people.participant_by_id(session, participant_id)
            title = topics.title_for(participant) if participant else f"#{participant_id}"
        if current != topics.MINE:
            return current if current and current > 0 else None
        try:
            async with self._group_limit(forum_chat).slot(outbox.PRIORITY_CRITICAL_ALERT):
                thread = await channel.create_thread(forum_chat, title)
        except Exception:
            async with self._runtime.sessions() as session, session.begin():
                await topics.release_topic_creation(session, participant_id)
            raise
        async with self._runtime.sessions() as session, session.begin():
            await topics.set_topic(session, participant_id, thread)
            participant = await people.participant_by_id(session, participant_id)
            if participant is not None:
                await threads.refresh_title(self._runtime.tx(session), participant)
        return thread

    async def _record_until_stored(self, item: ClaimedRow, outcome: Outcome) -> None:
        """Record an outcome; while the database is away keep trying, and a few times while
        it is locked (the outcome of a message that went out must not be lost, nor the
        message sent again)."""
        attempt = 0
        while True:
            try:
                await self._record(item, outcome)
                return
            except Exception as error:
                trouble = classify(error)
                attempt += 1
                if (
                    trouble is DatabaseTrouble.BUG
                    or (trouble is DatabaseTrouble.CONFLICT and attempt > CONFLICT_RETRIES)
                    or self._stopping
                ):
                    raise
                await asyncio.sleep(min(30.0, RECORD_RETRY_SECONDS * 2**attempt))

    async def _record(self, item: ClaimedRow, outcome: Outcome) -> None:
        runtime = self._runtime
        now = runtime.clock.now()
        runtime.metrics.sends.labels(type(outcome).__name__.lower(), item.kind).inc()
        if not isinstance(outcome, RetryLater) or outcome.flood_control:
            runtime.api_ok_at = now
        async with runtime.sessions() as session, session.begin():
            await outcomes.record(runtime.tx(session, now), item, outcome)
