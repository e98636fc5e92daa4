"""Scenario 5: a national roll-out's database (SQLite): 50,000 participants, 5 million
messages (see `benchmarks.generate`); `scale_postgres` measures the same on PostgreSQL.

Timed end to end at the local Telegram (from the command being handed out in getUpdates
to the bot's answer arriving): `/participants` for an officer with 40 participants, and
`/case` for a typical participant and for the heavy one (20,000 messages). Timed as a
command (wall time, including the ~1 s a Python process needs to start, shown as
`oprit db current`): `oprit export` of both, and `oprit purge` (retention 730 days; 8 %
of the messages are older; the rows left are counted). The bot's peak RSS is its VmHWM
while it served all this.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import Context
from benchmarks.generate import Generated, national_database, sqlite_stamp
from benchmarks.harness import (
    Database,
    TimedFakeApi,
    distribution,
    oprit_cli,
    oprit_process,
    running,
    text_update,
)
from benchmarks.seed import quiet

OFFICER = 6_100_001
ROUNDS = 5
PURGE_TIMEOUT = 240.0
RETENTION_DAYS = 730  # the default of OPRIT_RETENTION_DAYS
QUIET_S = 0.5


async def _command_ms(api: TimedFakeApi, text: str, rounds: int) -> dict[str, float]:
    """Latency of an officer command, from hand-out to the first answer, in ms. Each round
    waits until the answers of the one before stopped coming, so none is taken for its own."""
    latencies = []
    for _ in range(rounds):
        await _quiet_chat(api, OFFICER)
        update_id = api.push_update(text_update(api, OFFICER, text, "Officer"))
        calls = await api.wait_for_calls_async(
            "sendMessage",
            1,
            timeout=60,
            chat_id=OFFICER,
            predicate=lambda call, u=update_id: call.at >= api.handed_out.get(u, math.inf),
        )
        latencies.append((calls[0].at - api.handed_out[update_id]) * 1000)
    return {key: round(value, 1) for key, value in distribution(latencies).items()}


async def _quiet_chat(api: TimedFakeApi, chat_id: int, quiet: float = QUIET_S) -> None:
    """Wait until nothing was sent to a chat for `quiet` seconds."""
    while True:
        sent = [call.at for call in api.sends() if call.params.get("chat_id") == chat_id]
        waited = time.monotonic() - max(sent, default=0.0)
        if waited >= quiet:
            return
        await asyncio.sleep(quiet - waited)


def _timed_cli(env: dict[str, str], cwd: Path, *args: str, timeout: float = 300) -> dict[str, Any]:
    try:
        result, elapsed = oprit_cli(env, cwd, *args, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "ok": False, "note": f"stopped after {timeout:.0f} s"}
    return {
        "seconds": round(elapsed, 2),
        "ok": result.returncode == 0,
        "output_bytes": len(result.stdout),
        **({} if result.returncode == 0 else {"note": result.stderr.strip()[:200]}),
    }


async def table_sizes(database: Database) -> dict[str, int]:
    counts = {}
    for table in ("participants", "messages", "alerts", "checkins", "appointments"):
        counts[table] = int(await database.scalar(f"SELECT count(*) FROM {table}") or 0)
    return counts


async def _older_messages(database: Database, days: int) -> int:
    cutoff = datetime.now(UTC) - timedelta(days=days)
    # SQLite holds SQLAlchemy's naive UTC text, compared as text.
    value = sqlite_stamp(cutoff) if database.kind == "sqlite" else cutoff
    return int(
        await database.scalar("SELECT count(*) FROM messages WHERE at < :cutoff", cutoff=value) or 0
    )


async def measure(ctx: Context, made: Generated) -> dict[str, Any]:
    """The officer's commands through the bot, then `oprit export` of both participants."""
    api, database, cwd, env = ctx.api, made.database, made.cwd, made.env
    bot = oprit_process(api, database, cwd, ctx.profile_path(f"scale-{database.kind}"))
    with running(bot, api), bot.profiling():
        api.push_update(text_update(api, OFFICER, "/start", "Officer"))
        await api.wait_for_calls_async("sendMessage", 1, timeout=60, chat_id=OFFICER)
        participants = await _command_ms(api, "/participants", ROUNDS)
        case_typical = await _command_ms(api, "/case 2", ROUNDS)
        case_heavy = await _command_ms(api, "/case 1", ROUNDS)
        rss = bot.rss_mb()
    return {
        "participants_ms": participants,
        "case_typical_ms": case_typical,
        "case_heavy_ms": case_heavy,
        "cli_startup": _timed_cli(env, cwd, "db", "current"),
        "export_typical": _timed_cli(env, cwd, "export", "--participant", "2", "--json"),
        "export_heavy": _timed_cli(env, cwd, "export", "--participant", "1", "--json"),
        "peak_rss_mb": round(rss, 1),
    }


async def purge(made: Generated) -> dict[str, Any]:
    """`oprit purge` with the default 730 days, and the messages it should have taken."""
    database = made.database
    before = await table_sizes(database)
    older = await _older_messages(database, RETENTION_DAYS)
    await database.dispose()
    timed = _timed_cli(made.env, made.cwd, "purge", "--json", timeout=PURGE_TIMEOUT)
    after = int(await database.scalar("SELECT count(*) FROM messages") or 0)
    left = await _older_messages(database, RETENTION_DAYS)
    await database.dispose()
    return {
        **timed,
        "messages_before": before["messages"],
        "older_than_retention": older,
        "messages_after": after,
        "older_left": left,
    }


async def run(ctx: Context) -> dict[str, Any]:
    """Generate, then time the officer's commands, export and purge."""
    made = await national_database(ctx, "scale", OFFICER)
    await quiet(made.database.url)
    sizes = await table_sizes(made.database)
    await made.database.dispose()
    print(f"  scale: generated {sizes} in {sum(made.seconds.values()):.0f} s", flush=True)
    measured = await measure(ctx, made)
    return {
        "database": "sqlite",
        "rows": sizes,
        "database_mb": made.database_mb,
        "generation_s": {key: round(value, 1) for key, value in made.seconds.items()},
        **measured,
        "purge": await purge(made),
    }
