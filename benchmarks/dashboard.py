"""Scenario 6: the staff dashboard on the national roll-out's database (SQLite; 50,000
participants, 5 million messages, see `benchmarks.generate`); `scale_postgres` measures
the same pages on PostgreSQL.

`oprit web` runs as its own process; a client on 127.0.0.1 logs in through a real
one-time link (`oprit staff login-link`) and times whole page loads (request sent to the
last byte of HTML): the caseload of an officer with 40 participants, the first page (100
rows) of a coordinator who sees all 50,000, and the participant page of a typical
participant (100 messages) and of the heavy one (20,000 messages).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from benchmarks.common import Context
from benchmarks.generate import Generated, national_database
from benchmarks.harness import BotProcess, distribution
from benchmarks.seed import quiet
from tests.e2e.botprocess import OPRIT, free_port, oprit_json

OFFICER = 6_100_001
COORDINATOR = 6_100_002
ROUNDS = 30
TARGET_P95_MS = 200


async def _up(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as client:
        while True:
            try:
                async with client.get(base + "/dashboard/login") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("oprit web did not start")
            await asyncio.sleep(0.2)


async def _session(env: dict[str, str], cwd: Path, base: str, telegram_id: int) -> Any:
    link = oprit_json(env, cwd, "staff", "login-link", "--telegram-id", str(telegram_id))
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.post(base + urlsplit(link["url"]).path, allow_redirects=False) as answer:
        assert answer.status == 303, answer.status
    return client


async def _page_ms(client: aiohttp.ClientSession, url: str, rounds: int) -> dict[str, float]:
    latencies = []
    for _ in range(rounds):
        started = time.perf_counter()
        async with client.get(url) as answer:
            await answer.read()
            assert answer.status == 200, (url, answer.status)
        latencies.append((time.perf_counter() - started) * 1000)
    return {key: round(value, 1) for key, value in distribution(latencies).items()}


async def _measure(
    officer: aiohttp.ClientSession, coordinator: aiohttp.ClientSession, base: str, rounds: int
) -> dict[str, Any]:
    return {
        "caseload_officer_ms": await _page_ms(officer, base + "/dashboard/", rounds),
        "caseload_coordinator_ms": await _page_ms(coordinator, base + "/dashboard/", rounds),
        "caseload_coordinator_search_ms": await _page_ms(
            coordinator, base + "/dashboard/?q=Deelnemer+4999", rounds
        ),
        "participant_typical_ms": await _page_ms(
            officer, base + "/dashboard/participants/2", rounds
        ),
        "participant_heavy_ms": await _page_ms(officer, base + "/dashboard/participants/1", rounds),
    }


async def measure(ctx: Context, made: Generated) -> dict[str, Any]:
    """Add a coordinator, start `oprit web` on the generated database, time the pages."""
    rounds = ctx.scale(ROUNDS, 5)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env, cwd = {**made.env, "OPRIT_WEB_LISTEN": f"127.0.0.1:{port}"}, made.cwd
    oprit_json(
        env, cwd, "staff", "add", "--telegram-id", str(COORDINATOR), "--role", "coordinator",
        "--name", "Coordinator Bench",
    )  # fmt: skip
    profile = ctx.profile_path(f"dashboard-{made.database.kind}")
    web = BotProcess([*OPRIT, "web"], env, cwd, cwd / "web.log", profile)
    web.launch()
    try:
        await _up(base)
        officer_client = await _session(env, cwd, base, OFFICER)
        coordinator_client = await _session(env, cwd, base, COORDINATOR)
        try:
            with web.profiling():
                results = await _measure(officer_client, coordinator_client, base, rounds)
        finally:
            await officer_client.close()
            await coordinator_client.close()
        rss = web.rss_mb()
    finally:
        web.stop()
    return {"target_p95_ms": TARGET_P95_MS, **results, "peak_rss_mb": round(rss, 1)}


async def run(ctx: Context) -> dict[str, Any]:
    """Generate, start `oprit web`, time the pages."""
    made = await national_database(ctx, "dashboard", OFFICER)
    await quiet(made.database.url)
    await made.database.dispose()
    print(f"  dashboard: generated in {sum(made.seconds.values()):.0f} s", flush=True)
    return {
        "database": "sqlite",
        "participants": made.shape.participants,
        "messages": made.shape.messages,
        **await measure(ctx, made),
    }
