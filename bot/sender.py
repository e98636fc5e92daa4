"""The outbox sender: claims due rows, sends them, and records each outcome.

Rows go out most urgent first. Each chat has its own task that sends that chat's rows in
order, so a slow chat (a forum group at 20 messages a minute) never holds up an alert to
an officer's private chat. `RetryAfter` waits as told; network errors and 5xx back off
exponentially with jitter; a block marks the person unreachable and alerts the officer.
Broadcast rows pass a sliding-window limit of OPRIT_BROADCAST_RATE attempts per second,
and every row Telegram's limit of about 30 a second, where waiting rows go most urgent first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, ReactionTypeEmoji
from telegram.error import TelegramError

from bot import alerts, forum, leader, metrics, officer, officer_alerts, outbox, telegram_io
from bot.i18n import use_language
from bot.outbox import NO_RESEND_AFTER_CRASH
from bot.ratelimit import SlidingWindowLimiter
from bot.runtime import Runtime
from bot.telegram_io import Blocked, Delivered, Failed, Outcome, RetryLater, ThreadGone
from db import outbox as outbox_db
from db import people, staff_queries, topics, workers
from db.models import Message, OutboxItem, Participant

log = logging.getLogger(__name__)

BATCH = 100
PER_CHAT = 5
DEAD_AFTER_MIN = timedelta(seconds=10)
MAX_ATTEMPTS = 8
STAFF_RETRY = timedelta(minutes=10)
TOPIC_BUSY_RETRY = timedelta(seconds=2)
BROADCAST_IN_FLIGHT = 8
# Rows that are not urgent (replies, reminders, prompts, broadcasts) are claimed about this
# many seconds of sending ahead, not all at once: a claimed row holds its chat (a safety
# reply to that person would wait behind it), waits in memory, and a broadcast row claimed
# by a worker that dies is never sent again. Urgent rows are always claimed at once.
AHEAD_SECONDS = 2
TELEGRAM_PER_SECOND = 30
# Of Telegram's 30 a second, this many are only for safety answers and high or critical
# alerts: under a broadcast and a burst, an alert waited up to a second for a free slot.
URGENT_RESERVE = 5
# ... and this many while urgent messages went out within the last second: a wave of
# crisis messages comes in bursts, and five slots made an alert wait up to half a second.
URGENT_RESERVE_IN_A_WAVE = 12


def backoff(attempts: int) -> float:
    """Seconds to wait after the n-th failed attempt: 1, 2, 4 … 300, with jitter."""
    base = min(300.0, 2.0 ** max(0, attempts - 1))
    return base * (0.75 + random.random() / 2)  # noqa: S311


class OutboxSender:
    """One per process; several processes on one database never send a row twice."""

    def __init__(self, runtime: Runtime, bot: Bot) -> None:
        self._runtime = runtime
        self._bot = bot
        self._chat_tasks: dict[int, asyncio.Task[None]] = {}
        self.broadcast_limit = SlidingWindowLimiter(runtime.settings.broadcast_rate)
        # Telegram's ~30 messages a second for the whole bot, most urgent row first: rows
        # that wait in python-telegram-bot's own limiter would wait first come, first served,
        # and a crisis alert would queue behind every acknowledgement claimed before it.
        self.send_limit = SlidingWindowLimiter(
            TELEGRAM_PER_SECOND,
            reserve=URGENT_RESERVE,
            reserve_while_urgent=URGENT_RESERVE_IN_A_WAVE,
            urgent_below=outbox.PRIORITY_REPLY,
        )
        self._broadcast_in_flight = asyncio.Semaphore(BROADCAST_IN_FLIGHT)
        self._broadcasts_claimed = 0
        self._routine_claimed = 0
        self.broadcast_lock = leader.AdvisoryLock(runtime.engine, leader.BROADCASTS)

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set, sleeping until the next due row or a wake-up."""
        tick = self._runtime.settings.scheduler_tick.total_seconds()
        last_recovery = -tick
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._runtime.outbox_wakeup.clear()
            if loop.time() - last_recovery >= tick:
                last_recovery = loop.time()
                try:
                    await self.recover()
                except Exception:
                    log.exception("outbox recovery failed")
            try:
                claimed = await self._claim_and_start()
            except Exception:
                log.exception("outbox round failed")
                claimed = 0
            if claimed:
                await asyncio.sleep(0)
                continue
            waiter = asyncio.ensure_future(self._runtime.outbox_wakeup.wait())
            stopper = asyncio.ensure_future(stop.wait())
            # A chat's task wakes us when it is done (waiting on hundreds of tasks here
            # cost a callback per task on every round).
            await asyncio.wait(
                {waiter, stopper},
                timeout=await self._sleep_for(tick),
                return_when="FIRST_COMPLETED",
            )
            waiter.cancel()
            stopper.cancel()
        for task in list(self._chat_tasks.values()):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._chat_tasks.values(), return_exceptions=True)
        await self.broadcast_lock.release()

    async def send_due(self) -> int:
        """Claim everything due now and wait until it was attempted (tests, one-shot use)."""
        claimed = await self._claim_and_start()
        await asyncio.gather(*list(self._chat_tasks.values()), return_exceptions=True)
        self._chat_tasks.clear()
        return claimed

    def _dead_after(self) -> timedelta:
        return max(DEAD_AFTER_MIN, self._runtime.settings.scheduler_tick * 3)

    async def _sleep_for(self, tick: float) -> float:
        async with self._runtime.sessions() as session:
            due = await outbox_db.next_due_at(session)
        if due is None:
            return tick
        return max(0.05, min(tick, (due - self._runtime.clock.now()).total_seconds()))

    async def recover(self) -> None:
        """Deal with rows a dead worker left half-sent (its heartbeat stopped)."""
        now = self._runtime.clock.now()
        async with self._runtime.sessions() as session, session.begin():
            await workers.beat(session, self._runtime.worker, now)
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
        self._chat_tasks = {c: t for c, t in self._chat_tasks.items() if not t.done()}
        sends_broadcasts = await self.broadcast_lock.try_acquire()
        ahead = self.broadcast_limit.capacity * AHEAD_SECONDS - self._broadcasts_claimed
        routine = TELEGRAM_PER_SECOND * AHEAD_SECONDS - self._routine_claimed
        async with self._runtime.sessions() as session, session.begin():
            items = await outbox_db.claim_due(
                session,
                self._runtime.worker,
                self._runtime.clock.now(),
                BATCH,
                per_chat=PER_CHAT,
                busy_chats=set(self._chat_tasks),
                exclude_kinds=() if sends_broadcasts and ahead > 0 else ("broadcast",),
                max_broadcasts=max(0, ahead),
                max_routine=max(0, routine),
                routine_priority=outbox.PRIORITY_REPLY,
            )
        by_chat: dict[int, list[OutboxItem]] = {}
        for item in items:
            by_chat.setdefault(item.chat_id, []).append(item)
            self._count_claimed(item, 1)
        for chat_id, rows in by_chat.items():
            self._chat_tasks[chat_id] = asyncio.create_task(self._send_chat(rows))
        return len(items)

    async def _send_chat(self, rows: list[OutboxItem]) -> None:
        for row in rows:
            try:
                await self._deliver(row)
            except Exception:
                log.exception("sending one outbox row failed", extra={"outbox_id": row.id})
                await self._finish_after_error(row)
            finally:
                self._count_claimed(row, -1)
        self._runtime.wake_outbox()

    def _count_claimed(self, item: OutboxItem, change: int) -> None:
        if item.kind == "broadcast":
            self._broadcasts_claimed += change
        if item.priority >= outbox.PRIORITY_REPLY:
            self._routine_claimed += change

    async def _finish_after_error(self, item: OutboxItem) -> None:
        with contextlib.suppress(Exception):
            async with self._runtime.sessions() as session, session.begin():
                await outbox_db.finish(
                    session,
                    item.id,
                    status="pending",
                    due_at=self._runtime.clock.now() + timedelta(seconds=backoff(item.attempts)),
                    error="internal error",
                )

    async def _deliver(self, item: OutboxItem) -> None:
        forum_chat = officer_alerts.Routing.forum_chat_id
        if item.chat_id == forum_chat and item.message_thread_id is None and item.participant_id:
            thread = await self._ensure_topic(item.participant_id)
            if thread is None:
                await self._record(item, RetryLater(TOPIC_BUSY_RETRY.total_seconds(), "topic"))
                return
            item.message_thread_id = thread
        if item.kind == "broadcast":
            async with (
                self._broadcast_in_flight,
                self.broadcast_limit.slot(),
                self.send_limit.slot(item.priority),
            ):
                outcome = await telegram_io.send(self._bot, item, self._runtime.keyring)
        else:
            async with self.send_limit.slot(item.priority):
                outcome = await telegram_io.send(self._bot, item, self._runtime.keyring)
        await self._record(item, outcome)
        confirm = (item.payload or {}).get("confirm")
        if isinstance(outcome, Delivered) and isinstance(confirm, dict):
            with contextlib.suppress(TelegramError):
                await self._bot.set_message_reaction(
                    chat_id=confirm["chat_id"],
                    message_id=confirm["message_id"],
                    reaction=[ReactionTypeEmoji("👍")],
                )

    async def _ensure_topic(self, participant_id: int) -> int | None:
        """The participant's forum topic, created once (None: another worker creates it)."""
        forum_chat = officer_alerts.Routing.forum_chat_id
        assert forum_chat is not None
        async with self._runtime.sessions() as session, session.begin():
            current = await topics.claim_topic_creation(session, participant_id)
            participant = await people.participant_by_id(session, participant_id)
            title = topics.title_for(participant) if participant else f"#{participant_id}"
        if current != topics.MINE:
            return current if current and current > 0 else None
        try:
            created = await self._bot.create_forum_topic(chat_id=forum_chat, name=title)
        except TelegramError:
            async with self._runtime.sessions() as session, session.begin():
                await topics.release_topic_creation(session, participant_id)
            raise
        async with self._runtime.sessions() as session, session.begin():
            await topics.set_topic(session, participant_id, created.message_thread_id)
            participant = await people.participant_by_id(session, participant_id)
            if participant is not None:
                await forum.refresh_title(session, participant, self._runtime.clock.now())
        return created.message_thread_id

    async def _record(self, item: OutboxItem, outcome: Outcome) -> None:
        now = self._runtime.clock.now()
        result = type(outcome).__name__.lower()
        metrics.current().sends.labels(result, item.kind).inc()
        if not isinstance(outcome, RetryLater) or outcome.reason == "flood control":
            self._runtime.api_ok_at = now
        async with self._runtime.sessions() as session, session.begin():
            match outcome:
                case Delivered(message_id):
                    await outbox_db.finish(
                        session,
                        item.id,
                        status="sent",
                        sent_at=now,
                        telegram_message_id=message_id,
                        message_thread_id=item.message_thread_id,
                        error=None,
                    )
                    payload = item.payload or {}
                    if item.method in ("editMessageText", "closeForumTopic", "editForumTopic"):
                        return
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
                    if item.attempts >= MAX_ATTEMPTS and reason not in ("flood control", "topic"):
                        await outbox_db.finish(session, item.id, status="failed", error=reason)
                        await self._relay_failed(session, item, "failed")
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
                    await topics.forget_topic(session, item.participant_id)
                    await outbox_db.finish(
                        session, item.id, status="pending", message_thread_id=None, due_at=now
                    )
                case Failed(reason):
                    log.warning("send refused", extra={"outbox_id": item.id, "error": reason})
                    await outbox_db.finish(session, item.id, status="failed", error=reason)
                    await self._relay_failed(session, item, "failed")

    async def _blocked(self, session: AsyncSession, item: OutboxItem, reason: str) -> None:
        now = self._runtime.clock.now()
        staff = await people.staff_by_telegram_id(session, item.chat_id)
        if staff is not None:
            await outbox_db.finish(
                session,
                item.id,
                status="pending",
                due_at=now + STAFF_RETRY,
                error="staff unreachable",
            )
            if staff.reachable is not False or not staff.unreachable_notice_sent:
                staff.reachable = False
                await self._tell_coordinators_once(session, staff.id)
            return
        await outbox_db.finish(session, item.id, status="blocked", error=reason[:200])
        await self._relay_failed(session, item, "blocked")
        if item.participant_id is None:
            return
        participant = await people.participant_by_id(session, item.participant_id)
        if participant is None or participant.telegram_id != item.chat_id:
            return
        if participant.status != "unreachable":
            participant.status = "unreachable"
            await alerts.raise_alert(
                session, participant, kind="unreachable", severity="medium", now=now
            )

    async def _relay_failed(self, session: AsyncSession, item: OutboxItem, reason: str) -> None:
        """Tell the staff member whose message could not be delivered."""
        if item.kind != "relay" or item.staff_id is None:
            return
        staff = await staff_queries.active_by_id(session, item.staff_id)
        participant = (
            await session.get(Participant, item.participant_id) if item.participant_id else None
        )
        if staff is None:
            return
        with use_language(staff.language):
            notice = officer.relay_failed_reply(participant.name if participant else "?", reason)
        outbox.enqueue(
            session, staff.telegram_id, [notice], now=self._runtime.clock.now(), staff_id=staff.id
        )

    async def _tell_coordinators_once(self, session: AsyncSession, staff_id: int) -> None:
        """Coordinators hear once that a staff member never opened the bot."""
        staff = await staff_queries.active_by_id(session, staff_id)
        if staff is None or staff.unreachable_notice_sent:
            return
        staff.unreachable_notice_sent = True
        for coordinator in await staff_queries.coordinators(session):
            if coordinator.id == staff.id or coordinator.reachable is False:
                continue
            with use_language(coordinator.language):
                notice = officer_alerts.unreachable_staff_notice(staff)
            outbox.enqueue(
                session,
                coordinator.telegram_id,
                [notice],
                now=self._runtime.clock.now(),
                kind="alert",
                priority=outbox.PRIORITY_ALERT,
                staff_id=coordinator.id,
            )
