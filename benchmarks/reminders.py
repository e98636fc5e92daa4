"""Scenario 4: 5,000 reminders due in the same minute.

Appointments are made with `bot.appointments.create` (one reminder each, 2 hours before,
OPRIT_REMINDER_OFFSETS=2h) so that the reminders fall due spread over one minute that
starts about two and a half minutes after the bot has started (the bot uses real time; a
running bot would see the peak coming up to `bot.reminders.MAX_LEAD` ahead). Lateness is
measured twice: when the scheduler queued the reminder (reminders.sent_at − due_at) and
when it reached the local Telegram (arrival − due_at); negative means early. Both ends
count: none may arrive more than 10 minutes early, none more than 30 s late. Telegram takes
about 30 messages a second from one bot, so 5,000 reminders need at least 167 s: sent
from their due time, the last would arrive about 110 s late whatever the scheduler does.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from benchmarks.common import Context
from benchmarks.harness import Database, distribution, oprit_process, running, wait_for, workdir
from benchmarks.seed import participant_ids, runtime_for, seed_participants
from bot.services import appointments
from db.models import Appointment, Participant, Reminder

LEAD = timedelta(seconds=180)  # from the start of seeding to the first reminder due
SPREAD = timedelta(seconds=60)
OFFSET = timedelta(hours=2)
TICK = 15.0  # OPRIT_SCHEDULER_TICK's default
TELEGRAM_PER_SECOND = 30


async def _plan(database: Database, count: int) -> tuple[list[int], float]:
    """Participants with one appointment each; returns their Telegram ids and the moment
    (wall clock) the first reminder is due."""
    people = await seed_participants(database.url, count)
    pids = await participant_ids(database.url, people)
    runtime = await runtime_for(database.url)
    zone = ZoneInfo("Europe/Amsterdam")
    now = runtime.clock.now()
    first_due = now + LEAD
    try:
        async with runtime.sessions() as session, session.begin():
            for number, telegram_id in enumerate(people):
                due = first_due + SPREAD * number / count
                await appointments.create(
                    session,
                    pids[telegram_id],
                    at=due + OFFSET,
                    with_org="Gemeente, loket Werk en Inkomen",
                    location="Stadhuis, balie 3",
                    note="Neem je ID-kaart mee",
                    offsets=[OFFSET],
                    now=now,
                    zone=zone,
                )
    finally:
        await runtime.engine.dispose()
    return people, first_due.timestamp()


async def _due_and_queued(database: Database) -> dict[int, tuple[float, float | None]]:
    """Telegram id → (due, queued) wall-clock seconds of each reminder."""
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(Participant.telegram_id, Reminder.due_at, Reminder.sent_at)
            .join(Appointment, Appointment.id == Reminder.appointment_id)
            .join(Participant, Participant.id == Appointment.participant_id)
        )
        return {
            int(telegram_id): (due.timestamp(), sent.timestamp() if sent else None)
            for telegram_id, due, sent in rows.all()
        }


async def run(ctx: Context) -> dict[str, Any]:
    """Plan, start the bot, wait until every reminder arrived (bounded), measure."""
    api = ctx.api
    count = ctx.scale(5_000, 300)
    database = ctx.databases.sqlite("reminders")
    cwd = workdir(ctx.root, "reminders")
    planned_at = time.time()
    people, first_due = await _plan(database, count)
    seeding = time.time() - planned_at
    wanted = set(people)
    bot = oprit_process(
        api, database, cwd, ctx.profile_path("reminders"), OPRIT_REMINDER_OFFSETS="2h"
    )
    since = time.monotonic()
    started_at = time.time()
    try:
        with running(bot, api), bot.profiling():
            if time.time() > first_due:
                ctx.notes.append("reminders: the bot started after the first reminder was due")

            def arrived() -> bool:
                chats = {c.chat_id for c in api.sends(since) if c.ok}
                return wanted <= chats

            floor = count / TELEGRAM_PER_SECOND
            try:
                await wait_for(arrived, LEAD.total_seconds() + floor * 2 + 60, "reminders", 0.5)
            except TimeoutError:
                ctx.notes.append("reminders: not every reminder arrived in time")
            rss = bot.rss_mb()
        times = await _due_and_queued(database)
    finally:
        await database.dispose()
    arrivals: dict[int, float] = {}
    copies: Counter[int] = Counter()
    for call in api.sends(since):
        if call.ok and call.chat_id in wanted:
            copies[int(call.chat_id)] += 1
            arrivals.setdefault(int(call.chat_id), call.wall)
    delivered = [arrivals[t] - times[t][0] for t in arrivals if t in times]
    queued = [q - due for due, q in times.values() if q is not None]
    last_due = max(due for due, _q in times.values())
    return {
        "reminders": len(times),
        "due_within_s": round(last_due - first_due, 1),
        "seeding_s": round(seeding, 1),
        "bot_started_before_due_s": round(first_due - started_at, 1),
        "tick_s": TICK,
        "target_p99_s": 2 * TICK,
        "queued_lateness_s": {k: round(v, 2) for k, v in distribution(queued).items()},
        "delivered_lateness_s": {k: round(v, 2) for k, v in distribution(delivered).items()},
        "telegram_floor_max_s": round(max(0.0, count / TELEGRAM_PER_SECOND - SPREAD.seconds), 1),
        "early_over_600s": sum(1 for lateness in delivered if lateness < -600),
        "late_over_30s": sum(1 for lateness in delivered if lateness > 30),
        "delivered": len(arrivals),
        "missing": len(wanted) - len(arrivals),
        "duplicates": sum(n - 1 for n in copies.values()),
        "peak_rss_mb": round(rss, 1),
    }
