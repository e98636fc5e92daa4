"""Scenario 1: inbound throughput, end to end, against the echo bot's ceiling.

A backlog of N everyday text messages from up to 100 participants is queued at the fake
at once; the clock runs from the first update handed out in getUpdates until the last one
is processed (stored, triaged, committed) and every acknowledgement arrived at the fake.

The echo bot gets the same backlog and does the same outbound work: Oprit acknowledges a
sender once per backlog, so the echo bot answers each sender's first message only (the
warm-up sender was answered in the warm-up, as Oprit's was). It is done when its answer
to a last marker message arrived (updates are handled in order). It is sampled three
times, before, between and after Oprit's runs, and the spread is reported: the machine's
load moves the ceiling too.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from benchmarks.common import Context, spread, typical_texts
from benchmarks.echo_bot import DONE_TEXT, FIRST_PER_SENDER
from benchmarks.harness import (
    OPRIT,
    REPO,
    BotProcess,
    Database,
    TimedFakeApi,
    bot_env,
    oprit_process,
    running,
    text_update,
    wait_for,
    workdir,
)
from benchmarks.seed import seed_participants
from db.models import InboxUpdate, Message

SENDERS = 100
WARM_UP = 20
ACK = "je bericht is bewaard"


def _updates(api: TimedFakeApi, senders: list[int], count: int) -> list[dict[str, Any]]:
    texts = typical_texts(count)
    return [text_update(api, senders[i % len(senders)], texts[i]) for i in range(count)]


async def _processed(database: Database, first: int) -> tuple[int, datetime | None]:
    async with database.engine.connect() as connection:
        row = (
            await connection.execute(
                select(func.count(), func.max(InboxUpdate.processed_at)).where(
                    InboxUpdate.update_id >= first, InboxUpdate.processed_at.is_not(None)
                )
            )
        ).one()
    return int(row[0]), row[1]


async def _stored(database: Database, first: int) -> int:
    async with database.engine.connect() as connection:
        return int(
            await connection.scalar(
                select(func.count()).where(Message.direction == "in", Message.update_id >= first)
            )
            or 0
        )


async def oprit_throughput(
    ctx: Context, database: Database, registered: int, messages: int
) -> dict[str, Any]:
    """Messages per second through Oprit with `registered` participants on `database`."""
    api = ctx.api
    people = await seed_participants(database.url, registered)
    senders = spread(people, SENDERS)
    name = f"throughput-{database.kind}-{registered}"
    bot = oprit_process(api, database, workdir(ctx.root, name), ctx.profile_path(name))
    with running(bot, api):
        warm = api.push_many(_updates(api, senders[:1], WARM_UP))
        await wait_for(
            lambda: _count_at_least(_processed(database, warm[0]), WARM_UP), 60, "warm-up"
        )
        api.forget_history()
        since = time.monotonic()
        cpu_before = bot.cpu_seconds()
        with bot.profiling():
            ids = api.push_many(_updates(api, senders, messages))
            first = ids[0]
            expected_acks = len(senders) - 1  # the warm-up sender was acknowledged already

            def acks() -> list[Any]:
                return [c for c in api.sends(since) if c.ok and ACK in str(c.params.get("text"))]

            async def done() -> bool:
                count, _last = await _processed(database, first)
                return count >= messages and len(acks()) >= expected_acks

            await wait_for(done, max(120.0, messages / 10), f"{messages} messages processed")
        cpu = bot.cpu_seconds() - cpu_before
        _count, last_processed = await _processed(database, first)
        stored = await _stored(database, first)
        errors = await database.scalar(
            "SELECT count(*) FROM inbox WHERE update_id >= :first AND error IS NOT NULL",
            first=first,
        )
        start = min(api.handed_out_wall[i] for i in ids)
        ack_calls = acks()
        end = max(
            [last_processed.timestamp() if last_processed else start] + [c.wall for c in ack_calls]
        )
        rss = bot.rss_mb()
    elapsed = end - start
    return {
        "database": database.kind,
        "registered": registered,
        "messages": messages,
        "senders": len(senders),
        "seconds": round(elapsed, 3),
        "per_second": round(messages / elapsed, 1),
        "stored": stored,
        "acknowledgements": len(ack_calls),
        "errors": int(errors or 0),
        "peak_rss_mb": round(rss, 1),
        "bot_cpu_seconds": round(cpu, 2),
    }


async def _count_at_least(query: Any, wanted: int) -> bool:
    count, _last = await query
    return bool(count >= wanted)


async def echo_throughput(ctx: Context, database: Database, messages: int) -> dict[str, Any]:
    """The same backlog through the minimal PTB echo bot (no database), answering each
    sender once like Oprit."""
    api = ctx.api
    senders = [8_500_001 + number for number in range(SENDERS)]
    env = bot_env(api, database, BENCH_ECHO_REPLIES=FIRST_PER_SENDER)
    cwd = workdir(ctx.root, "echo")
    bot = BotProcess(
        [OPRIT[0], "-m", "benchmarks.echo_bot"],
        env,
        cwd,
        cwd / "echo.log",
        ctx.profile_path("throughput-echo"),
    )
    bot.env["PYTHONPATH"] = str(REPO)
    with running(bot, api):
        since = time.monotonic()
        api.push_many(
            [*_updates(api, senders[:1], WARM_UP), text_update(api, senders[0], DONE_TEXT)]
        )
        await wait_for(
            lambda: any(DONE_TEXT in str(c.params.get("text")) for c in api.sends(since)),
            60,
            "echo warm-up",
        )
        api.forget_history()
        since = time.monotonic()
        ids = api.push_many(
            [*_updates(api, senders, messages), text_update(api, senders[0], DONE_TEXT)]
        )

        def finished() -> list[Any]:
            return [c for c in api.sends(since) if DONE_TEXT in str(c.params.get("text"))]

        await wait_for(finished, max(120.0, messages / 10), "echo")
        replies = [c for c in api.sends(since) if DONE_TEXT not in str(c.params.get("text"))]
        start = min(api.handed_out_wall[i] for i in ids)
        end = finished()[0].wall
        rss = bot.rss_mb()
    elapsed = end - start
    return {
        "messages": messages,
        "senders": len(senders),
        "seconds": round(elapsed, 3),
        "per_second": round(messages / elapsed, 1),
        "replies": len(replies),
        "peak_rss_mb": round(rss, 1),
    }


async def _echo_sample(ctx: Context, messages: int) -> dict[str, Any]:
    scratch = ctx.databases.sqlite(f"echo-unused-{time.monotonic_ns()}")
    try:
        sample = await echo_throughput(ctx, scratch, messages)
    finally:
        await scratch.dispose()
    print(f"  throughput echo: {sample['per_second']} msg/s", flush=True)
    return sample


async def run(ctx: Context) -> dict[str, Any]:
    """Oprit on SQLite and PostgreSQL at three sizes, the echo bot before, between and
    after them; ratios against the echo bot's median."""
    messages = ctx.scale(2_000, 300)
    sizes = (1, 100, ctx.scale(10_000, 1_000))
    echoes = [await _echo_sample(ctx, messages)]
    rows = []
    for kind in ("sqlite", "postgresql"):
        if kind == "postgresql":
            echoes.append(await _echo_sample(ctx, messages))
        for registered in sizes:
            name = f"throughput_{kind}_{registered}"
            database = (
                ctx.databases.sqlite(name) if kind == "sqlite" else ctx.databases.postgres(name)
            )
            if database is None:
                ctx.notes.append(
                    f"PostgreSQL throughput not measured: {ctx.databases.postgres_error}"
                )
                break
            try:
                row = await oprit_throughput(ctx, database, registered, messages)
            finally:
                await database.dispose()
            rows.append(row)
            print(f"  throughput {kind} {registered}: {row['per_second']} msg/s", flush=True)
    echoes.append(await _echo_sample(ctx, messages))
    rates = [sample["per_second"] for sample in echoes]
    median = statistics.median(rates)
    for row in rows:
        row["ratio_to_echo"] = round(row["per_second"] / median, 2)
        row["ratio_range"] = [
            round(row["per_second"] / max(rates), 2),
            round(row["per_second"] / min(rates), 2),
        ]
    echo = {
        **min(echoes, key=lambda sample: abs(sample["per_second"] - median)),
        "per_second": median,
        "samples": rates,
        "answers": "first-per-sender",
    }
    return {"echo": echo, "oprit": rows}
