"""Scenario 5: a national roll-out's database (SQLite): 50,000 participants, 5 million
messages (see `benchmarks.generate`).

Timed end to end at the local Telegram (from the command being handed out in getUpdates
to the bot's answer arriving): `/participants` for an officer with 40 participants, and
`/case` for a typical participant and for the heavy one (20,000 messages). Timed as a
command (wall time, including the ~1 s a Python process needs to start, shown as
`oprit db current`): `oprit export` of both, and `oprit purge` (retention 730 days; 8 %
of the messages are older). The bot's peak RSS is its VmHWM while it served all this.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Context
from benchmarks.generate import national_database
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


async def _command_ms(api: TimedFakeApi, text: str, rounds: int) -> dict[str, float]:
    """Latency of an officer command, from hand-out to the first answer, in ms."""
    latencies = []
    for _ in range(rounds):
        since = time.monotonic()
        update_id = api.push_update(text_update(api, OFFICER, text, "Officer"))
        calls = await api.wait_for_calls_async(
            "sendMessage", 1, timeout=60, chat_id=OFFICER, since=since
        )
        latencies.append((calls[0].at - api.handed_out[update_id]) * 1000)
    return {key: round(value, 1) for key, value in distribution(latencies).items()}


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


async def _sizes(database: Database) -> dict[str, int]:
    counts = {}
    for table in ("participants", "messages", "alerts", "checkins", "appointments"):
        counts[table] = int(await database.scalar(f"SELECT count(*) FROM {table}") or 0)
    return counts


async def run(ctx: Context) -> dict[str, Any]:
    """Generate, then time the officer's commands, export and purge."""
    api = ctx.api
    made = await national_database(ctx, "scale", OFFICER)
    database, cwd, env = made.database, made.cwd, made.env
    await quiet(database.url)
    sizes = await _sizes(database)
    print(f"  scale: generated {sizes} in {sum(made.seconds.values()):.0f} s", flush=True)
    bot = oprit_process(api, database, cwd, ctx.profile_path("scale"))
    try:
        with running(bot, api), bot.profiling():
            api.push_update(text_update(api, OFFICER, "/start", "Officer"))
            await api.wait_for_calls_async("sendMessage", 1, timeout=60, chat_id=OFFICER)
            participants = await _command_ms(api, "/participants", ROUNDS)
            case_typical = await _command_ms(api, "/case 2", ROUNDS)
            case_heavy = await _command_ms(api, "/case 1", ROUNDS)
            rss = bot.rss_mb()
    finally:
        await database.dispose()
    startup = _timed_cli(env, cwd, "db", "current")
    export_typical = _timed_cli(env, cwd, "export", "--participant", "2", "--json")
    export_heavy = _timed_cli(env, cwd, "export", "--participant", "1", "--json")
    purge = _timed_cli(env, cwd, "purge", "--json", timeout=PURGE_TIMEOUT)
    return {
        "database": "sqlite",
        "rows": sizes,
        "database_mb": round(made.path.stat().st_size / 1e6),
        "generation_s": {key: round(value, 1) for key, value in made.seconds.items()},
        "participants_ms": participants,
        "case_typical_ms": case_typical,
        "case_heavy_ms": case_heavy,
        "cli_startup": startup,
        "export_typical": export_typical,
        "export_heavy": export_heavy,
        "purge": purge,
        "peak_rss_mb": round(rss, 1),
    }
