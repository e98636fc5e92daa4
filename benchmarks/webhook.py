"""Scenario 8: two `oprit webhook` workers on one PostgreSQL database.

The benchmark plays Telegram's side of a webhook: it POSTs updates to the two workers in
turn (as a load balancer in front of them would), up to 40 at a time (Telegram's default
`max_connections`). Throughput: a backlog of 2,000 everyday messages from 100 senders,
from the first POST until every update is processed and every acknowledgement arrived
at the local Telegram (the same end as scenario 1). Alert latency: while 100 everyday
messages a second come in, 400 crisis messages (four a second), each timed from the
moment it is handed to the poster (Telegram has it; with 40 POSTs under way it waits for
a connection, as at Telegram) to the officer's alert arriving at the local Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx

from benchmarks.alerts import OFFICERS, alert_arrivals, probe_text
from benchmarks.common import Context, spread, typical_texts
from benchmarks.harness import (
    OPRIT,
    BotProcess,
    Database,
    bot_env,
    distribution,
    text_update,
    wait_for,
    workdir,
)
from benchmarks.seed import seed_participants
from tests.e2e.botprocess import free_port, oprit_json

SECRET = "bench-webhook-secret-0123456789"
CONNECTIONS = 40
SENDERS = 100
ACK = "je bericht is bewaard"
BURST_RATE = 100
PROBES = 400  # 100 s of load: the two workers took in about 25 POSTs a second here
PROBE_EVERY = 0.25
FIRST_PARTICIPANT = 8_300_001
PER_OFFICER = 300


class Poster:
    """Telegram's side of the webhook: POSTs to the workers in turn, CONNECTIONS at once."""

    def __init__(self, ports: list[int]) -> None:
        self.urls = [f"http://127.0.0.1:{port}/telegram/hook" for port in ports]
        self._turn = 0
        self._slots = asyncio.Semaphore(CONNECTIONS)
        self.client = httpx.AsyncClient(
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            limits=httpx.Limits(max_connections=CONNECTIONS * 2),
            timeout=30,
        )
        self.failed = 0

    async def post(self, update: dict[str, Any]) -> None:
        """One update to the next worker; retried like Telegram does when not answered 200."""
        url = self.urls[self._turn % len(self.urls)]
        self._turn += 1
        async with self._slots:
            for _attempt in range(5):
                with contextlib.suppress(httpx.HTTPError):
                    if (await self.client.post(url, json=update)).status_code == 200:
                        return
                await asyncio.sleep(0.5)
        self.failed += 1


async def _processed(database: Database, first: int) -> int:
    count = await database.scalar(
        "SELECT count(*) FROM inbox WHERE update_id >= :first AND processed_at IS NOT NULL",
        first=first,
    )
    return int(count or 0)


async def _throughput(
    ctx: Context, poster: Poster, database: Database, senders: list[int], update_id: int
) -> tuple[dict[str, Any], int]:
    api = ctx.api
    messages = ctx.scale(2_000, 300)
    texts = typical_texts(messages)
    updates = [
        {"update_id": update_id + n, **text_update(api, senders[n % len(senders)], texts[n])}
        for n in range(messages)
    ]
    since = time.monotonic()
    await asyncio.gather(*(poster.post(update) for update in updates))
    posted = time.monotonic() - since

    def acks() -> list[Any]:
        return [c for c in api.sends(since) if c.ok and ACK in str(c.params.get("text"))]

    async def done() -> bool:
        return await _processed(database, update_id) >= messages and len(acks()) >= len(senders)

    await wait_for(done, max(600.0, messages / 2), "webhook backlog processed", 0.1)
    elapsed = time.monotonic() - since
    return {
        "messages": messages,
        "senders": len(senders),
        "posted_in_s": round(posted, 2),
        "seconds": round(elapsed, 2),
        "per_second": round(messages / elapsed, 1),
        "acknowledgements": len(acks()),
    }, update_id + messages


async def _alerts(
    ctx: Context,
    poster: Poster,
    burst_senders: list[int],
    probe_senders: list[int],
    update_id: int,
) -> dict[str, Any]:
    api = ctx.api
    seconds = len(probe_senders) * PROBE_EVERY
    total = round(BURST_RATE * seconds)
    texts = typical_texts(total)
    since = time.monotonic()
    started: dict[int, float] = {}
    probes = iter(probe_senders)
    next_probe = since
    posts = []
    for number in range(total):
        delay = since + number / BURST_RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        update = text_update(api, burst_senders[number % len(burst_senders)], texts[number])
        posts.append(asyncio.create_task(poster.post({"update_id": update_id, **update})))
        update_id += 1
        if time.monotonic() >= next_probe:
            telegram_id = next(probes, None)
            if telegram_id is not None:
                probe = text_update(api, telegram_id, probe_text(telegram_id))
                started[telegram_id] = time.monotonic()
                posts.append(asyncio.create_task(poster.post({"update_id": update_id, **probe})))
                update_id += 1
            next_probe += PROBE_EVERY
    pushed_for = time.monotonic() - since
    await asyncio.gather(*posts)
    with contextlib.suppress(TimeoutError):
        await wait_for(
            lambda: set(started) <= set(alert_arrivals(api, since)), 60, "every alert", 0.2
        )
    arrivals = alert_arrivals(api, since)
    latencies = [(arrivals[t] - at) * 1000 for t, at in started.items() if t in arrivals]
    return {
        **{key: round(value, 1) for key, value in distribution(latencies).items()},
        "missing": len(started) - len(latencies),
        "burst_messages": total,
        "burst_seconds": round(pushed_for, 1),
    }


async def run(ctx: Context) -> dict[str, Any]:
    """Two workers on a fresh PostgreSQL database: throughput, then alerts under load."""
    api = ctx.api
    database = ctx.databases.postgres("webhook")
    if database is None:
        return {"skipped": f"no PostgreSQL here: {ctx.databases.postgres_error}"}
    cwd = workdir(ctx.root, "webhook")
    ports = [free_port(), free_port()]
    env = bot_env(
        api,
        database,
        OPRIT_WEBHOOK_SECRET=SECRET,
        OPRIT_WEBHOOK_URL=f"http://127.0.0.1:{ports[0]}/telegram/hook",
    )
    groups = []
    for number, telegram_id in enumerate(OFFICERS):
        officer = oprit_json(
            env, cwd, "staff", "add", "--telegram-id", str(telegram_id), "--role", "officer",
            "--name", f"Officer {number + 1}",
        )  # fmt: skip
        groups.append(
            await seed_participants(
                database.url,
                PER_OFFICER,
                officer_id=int(officer["id"]),
                first_telegram_id=FIRST_PARTICIPANT + number * PER_OFFICER,
            )
        )
    everyone = [t for group in groups for t in group]
    senders = spread(everyone[: len(everyone) // 2], SENDERS)
    # Crises take turns over the officers (about one message a second into one chat).
    calm = [group[index] for index in range(PER_OFFICER // 2, PER_OFFICER) for group in groups]
    probe_senders = calm[: ctx.scale(PROBES, 40)]
    workers = [
        BotProcess(
            [*OPRIT, "webhook"],
            {**env, "OPRIT_WEBHOOK_LISTEN": f"127.0.0.1:{port}"},
            cwd,
            cwd / f"worker{number}.log",
            ctx.profile_path(f"webhook-{number}"),
        )
        for number, port in enumerate(ports)
    ]
    poster = Poster(ports)
    try:
        for worker in workers:
            worker.launch()
        await wait_for(lambda: _ready(ports), 60, "both webhook workers")
        for number, telegram_id in enumerate(OFFICERS, start=1):
            await poster.post({"update_id": number, **text_update(api, telegram_id, "/start")})
        await asyncio.sleep(1)
        api.forget_history()
        update_id = 1_000
        throughput, update_id = await _throughput(ctx, poster, database, senders, update_id)
        print(f"  webhook throughput: {throughput['per_second']} msg/s", flush=True)
        alerts = await _alerts(ctx, poster, senders, probe_senders, update_id)
        print(f"  webhook alerts: p99 {alerts['p99']} ms", flush=True)
        rss = max(worker.rss_mb() for worker in workers)
    finally:
        await poster.client.aclose()
        for worker in workers:
            worker.stop()
        await database.dispose()
    return {
        "workers": len(workers),
        "throughput": throughput,
        "alerts": alerts,
        "failed_posts": poster.failed,
        "peak_rss_mb": round(rss, 1),
    }


def _ready(ports: list[int]) -> bool:
    for port in ports:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code != 200:
                return False
        except httpx.HTTPError:
            return False
    return True
