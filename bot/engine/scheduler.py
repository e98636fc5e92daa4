"""Time-driven work: scheduled prompts of flows, reminders, broadcasts, escalation, purge.

The database says what is due; the job queue only wakes us every OPRIT_SCHEDULER_TICK.
Each slot is claimed with a compare-and-set on a stored value, so a restart or a second
worker never sends the same round of prompts twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import flows
from bot.config import CheckinSchedule
from bot.runtime import Runtime
from bot.services import (
    attendance,
    broadcasts,
    downtime,
    enrolment,
    plan_reminders,
    privacy,
    referrals,
    reminders,
    staff_alerts,
)
from db import alerts as alerts_db
from db import cases, reports, staff_queries, state

log = logging.getLogger(__name__)

PURGE_KEY = "purge_day"
PURGE_HOUR = 3
STALE_PROMPT = timedelta(hours=6)
REMINDER_BATCHES_PER_TICK = 40  # up to 20,000 reminders a tick; the rest at the next one


def latest_slot(schedule: CheckinSchedule, zone: tzinfo, now: datetime) -> datetime:
    """The most recent scheduled prompt moment at or before `now` (aware, UTC-comparable)."""
    local_now = now.astimezone(zone)
    for days_back in range(8):
        day = (local_now - timedelta(days=days_back)).date()
        if day.weekday() not in schedule.weekdays:
            continue
        moment = datetime.combine(day, schedule.at, tzinfo=zone)
        if moment <= local_now:
            return moment
    raise ValueError("a check-in schedule needs at least one weekday")


async def claim_slot(session: AsyncSession, key: str, slot: datetime, now: datetime) -> bool:
    """Take a time slot once: True only for the first caller (across restarts and workers)."""
    return await state.compare_and_set(session, key, slot.isoformat(), now)


async def send_prompts(runtime: Runtime) -> int:
    """For every flow with a scheduled prompt whose slot has come (and is not hours old),
    prompt every participant it is for; returns how many prompts were queued."""
    settings, now = runtime.settings, runtime.clock.now()
    queued = 0
    for flow in flows.prompted():
        assert flow.prompt is not None
        slot = latest_slot(flow.prompt.schedule(settings), settings.tz, now)
        if now - slot > STALE_PROMPT:
            continue
        async with runtime.sessions() as session, session.begin():
            if not await claim_slot(session, flow.prompt.slot_key, slot, now):
                continue
            sent = await flow.prompt.send(runtime.tx(session, now))
        log.info("prompts queued", extra={"flow": flow.id, "count": sent})
        queued += sent
    if queued:
        runtime.wake_outbox()
    return queued


async def escalate_alerts(runtime: Runtime) -> int:
    """High and critical alerts nobody acknowledged in time go to backups and coordinators."""
    now = runtime.clock.now()
    escalated = 0
    async with runtime.sessions() as session, session.begin():
        pending = await cases.unescalated(session, now - runtime.settings.escalation_after)
        targets = await staff_queries.escalation_targets(session)
        for alert, participant in pending:
            if not await alerts_db.claim_escalation(session, alert.id, now):
                continue
            escalated += 1
            await staff_alerts.enqueue(
                runtime.tx(session, now), alert, participant, recipients=targets, escalated=True
            )
    if escalated:
        log.warning("alerts escalated", extra={"count": escalated})
        runtime.wake_outbox()
    return escalated


async def beat(runtime: Runtime) -> None:
    """Record that the bot is alive (used to tell staff how long it was down)."""
    async with runtime.sessions() as session, session.begin():
        await state.put(
            session, downtime.HEARTBEAT_KEY, runtime.clock.now().isoformat(), runtime.clock.now()
        )


async def send_reminders(runtime: Runtime) -> int:
    """Queue every reminder that has fallen due, a batch per transaction, up to
    REMINDER_BATCHES_PER_TICK batches: thousands due in the same minute go out in that
    minute, not over the next ticks."""
    queued = 0
    for _ in range(REMINDER_BATCHES_PER_TICK):
        async with runtime.sessions() as session, session.begin():
            batch, more = await reminders.queue_due(runtime.tx(session))
        queued += batch
        if batch:
            runtime.wake_outbox()  # the first ones go out while the next batch is made
        if not more:
            break
    return queued


async def run_broadcasts(runtime: Runtime) -> int:
    """Start due broadcasts and edit the progress of running ones."""
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        made = await broadcasts.expand_due(session, now, runtime.settings.default_language)
        updated = await broadcasts.progress_updates(session, now)
    if made or updated:
        runtime.wake_outbox()
    return made


async def plan_days(runtime: Runtime) -> int:
    """Release-day reminders and greetings, task reminders, attendance questions, and
    alerts about overdue tasks and referrals without first contact."""
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        tx = runtime.tx(session, now)
        queued = await enrolment.release_days(tx)
        queued += await plan_reminders.remind_due_tomorrow(tx)
        queued += await plan_reminders.alert_overdue(tx)
        queued += await attendance.ask_due(tx)
        queued += await referrals.alert_stale(tx)
    if queued:
        runtime.wake_outbox()
    return queued


async def daily_purge(runtime: Runtime) -> bool:
    """Apply the retention period once a day (at the first tick after 03:00 local time)."""
    now = runtime.clock.now()
    local = now.astimezone(runtime.settings.tz)
    if local.hour < PURGE_HOUR:
        return False
    async with runtime.sessions() as session, session.begin():
        if not await state.compare_and_set(session, PURGE_KEY, local.date().isoformat(), now):
            return False
        counts = await privacy.purge(session, now, runtime.settings.retention_days)
    log.info("retention purge done", extra={"rows": sum(counts.values())})
    return True


async def refresh_gauges(runtime: Runtime) -> None:
    """Outbox depth and age, open alerts and broadcast backlog, for /metrics."""
    now = runtime.clock.now()
    async with runtime.sessions() as session:
        health = await reports.health(session, now)
    gauges = runtime.metrics
    gauges.outbox_depth.set(health.outbox_due)
    gauges.outbox_oldest_seconds.set(
        (now - health.oldest_due).total_seconds() if health.oldest_due else 0
    )
    gauges.unacknowledged_alerts.set(health.unacknowledged_alerts)
    gauges.broadcast_pending.set(health.broadcast_pending)


async def tick(runtime: Runtime) -> None:
    """Everything time-driven, once per OPRIT_SCHEDULER_TICK."""
    await beat(runtime)
    await refresh_gauges(runtime)
    await send_reminders(runtime)
    await run_broadcasts(runtime)
    await escalate_alerts(runtime)
    await send_prompts(runtime)
    await plan_days(runtime)
    await daily_purge(runtime)
