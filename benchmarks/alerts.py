"""Scenario 2: crisis alert latency, idle and under load (SQLite, the default database).

Latency is the time from a participant's critical message ("ik wil dood") becoming
available at the local Telegram (pushed, before any getUpdates handed it out) to the
officer's alert arriving there (sendMessage to the officer's chat naming the
participant). 5,000 participants belong to 10 officers (`oprit staff add`). Idle: one
critical message at a time. Under load: while a broadcast to all 5,000 runs at
OPRIT_BROADCAST_RATE=15 and 100 everyday messages per second come in from 500
participants, 1,000 critical messages from other participants, four a second, the
officers taking turns (Telegram lets a bot write about once a second into one chat).

Why 15 a second and four crises a second: Telegram takes about 30 messages a second
from a bot. Each crisis is two sends (the safety answer and the alert), so 15 broadcast
+ 8 crisis sends leave 7 a second for the acknowledgements of the everyday messages; a
broadcast at 25 plus five crises a second would ask more than Telegram allows, and
something would have to wait whatever the bot did. The load is verified, not assumed:
the broadcast's sends per second during the alert window are reported against its rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import CRITICAL_TEXT, Context, typical_texts
from benchmarks.harness import (
    Database,
    TimedFakeApi,
    bot_env,
    distribution,
    oprit_process,
    running,
    text_update,
    wait_for,
    workdir,
)
from benchmarks.seed import seed_participants
from tests.e2e.botprocess import oprit_json

OFFICERS = [6_100_001 + number for number in range(10)]
FIRST_PARTICIPANT = 8_000_001
PARTICIPANTS = 5_000  # a broadcast at 15 a second to all of them outlasts the window
IDLE_SAMPLES = 30
BURST_RATE = 100
_REF = re.compile(r"\bref(\d+)\b")
BURST_SENDERS = 500
PROBES = 1_000  # enough that p99 is not simply the slowest one
PROBE_EVERY = 0.25
BROADCAST_RATE = 15
BROADCAST_TEXT = "Morgen is het loket dicht."


def probe_text(telegram_id: int) -> str:
    """A crisis message that says who sent it: the alert quotes it, so the alert's arrival
    can be matched to its probe (alerts name people, not ids)."""
    return f"{CRITICAL_TEXT} ref{telegram_id}"


def _probe_sender(call: Any) -> int | None:
    """The Telegram id a crisis alert is about (from the quoted probe text), or None."""
    found = _REF.search(str(call.params.get("text", "")))
    return int(found[1]) if found else None


def alert_arrivals(api: TimedFakeApi, since: float) -> dict[int, float]:
    """Telegram id → when the first alert about them reached the officer's chat."""
    arrivals: dict[int, float] = {}
    for call in api.sends(since):
        if call.ok and call.chat_id in OFFICERS:
            sender = _probe_sender(call)
            if sender is not None:
                arrivals.setdefault(sender, call.at)
    return arrivals


async def _probe_latencies(
    api: TimedFakeApi, probes: dict[int, int], since: float, timeout: float
) -> tuple[list[float], int]:
    """Wait for the alert of every probe (update id → Telegram id); latencies in ms."""
    wanted = set(probes.values())
    with contextlib.suppress(TimeoutError):
        await wait_for(
            lambda: wanted <= set(alert_arrivals(api, since)), timeout, "every alert", 0.2
        )
    arrivals = alert_arrivals(api, since)
    latencies = []
    for update_id, telegram_id in probes.items():
        arrived = arrivals.get(telegram_id)
        available = api.available.get(update_id)
        if arrived is not None and available is not None:
            latencies.append((arrived - available) * 1000)
    return latencies, len(probes) - len(latencies)


async def _idle(api: TimedFakeApi, senders: list[int]) -> dict[str, Any]:
    latencies: list[float] = []
    missing = 0
    for telegram_id in senders:
        since = time.monotonic()
        update_id = api.push_update(text_update(api, telegram_id, probe_text(telegram_id)))
        found, lost = await _probe_latencies(api, {update_id: telegram_id}, since, 10)
        latencies += found
        missing += lost
        await asyncio.sleep(0.1)
    return {**_rounded(distribution(latencies)), "missing": missing}


async def _loaded(
    api: TimedFakeApi,
    burst_senders: list[int],
    probe_senders: list[int],
    database: Database,
) -> dict[str, Any]:
    seconds = len(probe_senders) * PROBE_EVERY
    total = round(BURST_RATE * seconds)
    texts = typical_texts(total)
    since = time.monotonic()
    probes: dict[int, int] = {}
    probe_iter = iter(probe_senders)
    next_probe = since
    first_id = None
    for number in range(total):
        target = since + number / BURST_RATE
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sender = burst_senders[number % len(burst_senders)]
        update_id = api.push_update(text_update(api, sender, texts[number]))
        first_id = first_id if first_id is not None else update_id
        if time.monotonic() >= next_probe:
            telegram_id = next(probe_iter, None)
            if telegram_id is not None:
                probe = text_update(api, telegram_id, probe_text(telegram_id))
                probes[api.push_update(probe)] = telegram_id
            next_probe += PROBE_EVERY
    pushed_for = time.monotonic() - since
    polls = len(api.sends(since, "getUpdates"))
    latencies, missing = await _probe_latencies(api, probes, since, 60)
    parts = await _split(api, database, probes, since)
    window = [c for c in api.sends(since) if c.ok and c.at <= since + pushed_for]
    broadcast_during = sum(1 for c in window if "loket" in str(c.params.get("text", "")))
    broadcast_rate = broadcast_during / pushed_for
    backlog = await database.scalar(
        "SELECT count(*) FROM inbox WHERE processed_at IS NULL AND update_id >= :first",
        first=first_id,
    )
    return {
        **_rounded(distribution(latencies)),
        "missing": missing,
        "burst_messages": total,
        "burst_seconds": round(pushed_for, 1),
        "broadcast_messages_during": broadcast_during,
        "broadcast_rate_configured": BROADCAST_RATE,
        "broadcast_per_second": round(broadcast_rate, 2),
        "broadcast_ratio": round(broadcast_rate / BROADCAST_RATE, 2),
        "sends_per_second": round(len(window) / pushed_for, 1),
        "probes_per_second": round(1 / PROBE_EVERY, 1),
        "burst_per_second": BURST_RATE,
        "inbox_backlog_after": int(backlog or 0),
        "getupdates_calls": polls,
        "parts_ms": {name: _rounded(distribution(values)) for name, values in parts.items()},
    }


async def _split(
    api: TimedFakeApi, database: Database, probes: dict[int, int], since: float
) -> dict[str, list[float]]:
    """Where the time went: available → handed out by getUpdates (fetch), handed out → the
    alert row queued (inbox: stored, waited, processed), queued → claimed by the sender,
    claimed → arrived at the fake."""
    rows = await database.rows(
        "SELECT p.telegram_id, min(o.created_at), min(o.claimed_at) FROM outbox o "
        "JOIN participants p ON p.id = o.participant_id WHERE o.kind = 'alert' "
        "GROUP BY p.telegram_id"
    )
    queued = {int(tid): _wall(at) for tid, at, _claimed in rows}
    claimed = {int(tid): _wall(at) for tid, _at, at in rows if at is not None}
    arrived: dict[int, float] = {}
    for call in api.sends(since):
        sender = _probe_sender(call) if call.ok and call.chat_id in OFFICERS else None
        if sender is not None:
            arrived.setdefault(sender, call.wall)
    parts: dict[str, list[float]] = {"fetch": [], "inbox": [], "claim": [], "send": []}
    for update_id, telegram_id in probes.items():
        available = api.available_wall.get(update_id)
        handed = api.handed_out_wall.get(update_id)
        made, taken = queued.get(telegram_id), claimed.get(telegram_id)
        came = arrived.get(telegram_id)
        if (
            available is not None
            and handed is not None
            and made is not None
            and taken is not None
            and came is not None
        ):
            parts["fetch"].append((handed - available) * 1000)
            parts["inbox"].append((made - handed) * 1000)
            parts["claim"].append((taken - made) * 1000)
            parts["send"].append((came - taken) * 1000)
    return parts


def _wall(stamp: Any) -> float:
    """A timestamp SQLite returned as text (UTC) → seconds since the epoch."""
    moment = datetime.fromisoformat(str(stamp))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 1) for key, value in values.items()}


async def run(ctx: Context) -> dict[str, Any]:
    """Idle first, then under the broadcast and the burst, on one SQLite database."""
    api = ctx.api
    database = ctx.databases.sqlite("alerts")
    cwd = workdir(ctx.root, "alerts")
    env = bot_env(api, database, OPRIT_BROADCAST_RATE=str(BROADCAST_RATE))
    groups = []
    for number, telegram_id in enumerate(OFFICERS):
        officer = oprit_json(
            env, cwd, "staff", "add", "--telegram-id", str(telegram_id), "--role", "officer",
            "--name", f"Officer {number + 1}",
        )  # fmt: skip
        groups.append(
            await seed_participants(
                database.url,
                PARTICIPANTS // len(OFFICERS),
                officer_id=int(officer["id"]),
                first_telegram_id=FIRST_PARTICIPANT + number * PARTICIPANTS,
            )
        )
    # Critical messages take turns over the officers (Telegram lets a bot write about once
    # a second into one chat); the burst comes from the last participants of each officer.
    per_group = len(groups[0])
    rotation = [group[index] for index in range(per_group) for group in groups]
    burst_senders = [t for group in groups for t in group[-BURST_SENDERS // len(groups) :]]
    calm = [t for t in rotation if t not in set(burst_senders)]
    idle_senders = calm[: ctx.scale(IDLE_SAMPLES, 5)]
    probes = ctx.scale(PROBES, 40)
    probe_senders = calm[IDLE_SAMPLES : IDLE_SAMPLES + probes]
    warm_up = calm[IDLE_SAMPLES + probes]
    bot = oprit_process(
        api,
        database,
        cwd,
        ctx.profile_path("alerts"),
        OPRIT_BROADCAST_RATE=str(BROADCAST_RATE),
    )
    try:
        with running(bot, api):
            # The officers opened the bot once (staff Telegram lets us write to).
            for telegram_id in OFFICERS:
                api.push_update(text_update(api, telegram_id, "/start", "Officer"))
            await asyncio.sleep(1)
            await _idle(api, [warm_up])  # warm-up, not counted
            idle = await _idle(api, idle_senders)
            print(f"  alerts idle: p99 {idle['p99']} ms", flush=True)
            queued = oprit_json(env, cwd, "broadcast", "send", "--text", BROADCAST_TEXT)
            since = time.monotonic()
            await wait_for(
                lambda: [c for c in api.sends(since) if "loket" in str(c.params.get("text"))],
                40,
                "the broadcast to start",
            )
            cpu = bot.cpu_seconds()
            started = time.monotonic()
            with bot.profiling():
                loaded = await _loaded(api, burst_senders, probe_senders, database)
            loaded["bot_cpu_share"] = round(
                (bot.cpu_seconds() - cpu) / (time.monotonic() - started), 2
            )
            print(f"  alerts loaded: p99 {loaded['p99']} ms", flush=True)
            rss = bot.rss_mb()
    finally:
        await database.dispose()
    return {
        "idle": idle,
        "loaded": {**loaded, "broadcast_recipients": queued["recipients"]},
        "peak_rss_mb": round(rss, 1),
    }
