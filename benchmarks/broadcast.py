"""Scenario 3: broadcast rate against OPRIT_BROADCAST_RATE, with and without 429s.

`oprit broadcast send` queues a broadcast to every participant before the bot starts; the
bot starts it at its first scheduler tick. The achieved rate is the delivered messages per
second over the whole seconds from the first broadcast message that reached the fake (the
sender works in bursts of up to the rate per window, so the count of the seconds must not
stop at the last burst's first message). With 429s,
one send in every 40 is answered "Too Many Requests, retry after 1" (a fault, not a
violation). 10,000 recipients take 400 s at 25/s, longer than the whole benchmark may
run, so that size is measured over a fixed window (the rate, the limit and the duplicates
over the messages sent in it).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from benchmarks.common import Context
from benchmarks.harness import (
    TimedFakeApi,
    bot_env,
    oprit_process,
    running,
    wait_for,
    workdir,
)
from benchmarks.seed import seed_participants
from bot.localtelegram import Call, max_calls_in_window
from tests.e2e.botprocess import oprit_json

RATE = 25  # OPRIT_BROADCAST_RATE's default
TEXT = "Vrijdag is het loket gesloten. Bel bij vragen je officier."
FAULT_EVERY = 40
WINDOW_SECONDS = 30.0


async def _inject_429s(api: TimedFakeApi, stop: asyncio.Event) -> int:
    """Answer one send in every FAULT_EVERY with a 429 (retry after 1 s) until stopped."""
    injected = 0
    seen = 0
    while not stop.is_set():
        sent = len(api.sends(0.0))
        if sent - seen >= FAULT_EVERY:
            seen = sent
            api.fail_next("sendMessage", status=429, retry_after=1)
            injected += 1
        await asyncio.sleep(0.05)
    return injected


def _broadcast_calls(api: TimedFakeApi, since: float) -> list[Call]:
    # Every broadcast message starts with the line saying it is from the municipality.
    return [c for c in api.sends(since) if str(c.params.get("text", "")).endswith("\n" + TEXT)]


def _steady_rate(times: list[float]) -> float:
    """Deliveries per second over the whole seconds from the first one on.

    Sends come in bursts of up to `rate` each window, so (n - 1) / span would count the
    last burst without its second; whole seconds count every burst with its own.
    """
    if len(times) < 2:
        return 0.0
    first = min(times)
    seconds = int(max(times) - first)
    if seconds < 1:
        return 0.0
    return len([t for t in times if t - first < seconds]) / seconds


async def one(
    ctx: Context, recipients: int, with_429s: bool, window: float | None
) -> dict[str, Any]:
    """One broadcast; the whole of it, or the first `window` seconds of sending."""
    api = ctx.api
    name = f"broadcast-{recipients}-{'429' if with_429s else 'clean'}"
    database = ctx.databases.sqlite(name)
    cwd = workdir(ctx.root, name)
    env = bot_env(api, database, OPRIT_BROADCAST_RATE=str(RATE))
    await seed_participants(database.url, recipients)
    queued = oprit_json(env, cwd, "broadcast", "send", "--text", TEXT)
    api.forget_history()
    stop = asyncio.Event()
    bot = oprit_process(api, database, cwd, ctx.profile_path(name), OPRIT_BROADCAST_RATE=str(RATE))
    since = time.monotonic()
    try:
        with running(bot, api):
            injector = asyncio.create_task(_inject_429s(api, stop)) if with_429s else None
            await wait_for(lambda: _broadcast_calls(api, since), 60, "the first broadcast message")
            first = _broadcast_calls(api, since)[0].at
            limit = (window or recipients / RATE * 1.5 + 60) + 5

            def delivered() -> int:
                return len([c for c in _broadcast_calls(api, since) if c.ok])

            def finished() -> bool:
                if window is not None:
                    return time.monotonic() - first >= window
                return delivered() >= recipients

            await wait_for(finished, limit, "the broadcast", 0.2)
            stop.set()
            injected = await injector if injector is not None else 0
            rss = bot.rss_mb()
    finally:
        stop.set()
        await database.dispose()
    calls = _broadcast_calls(api, since)
    if window is not None:
        calls = [c for c in calls if c.at - first < window]
    ok = [c for c in calls if c.ok]
    copies = Counter(c.chat_id for c in ok)
    span = max(c.at for c in ok) - min(c.at for c in ok) if len(ok) > 1 else 0.0
    achieved = _steady_rate([c.at for c in ok])
    return {
        "recipients": queued["recipients"],
        "with_429s": with_429s,
        "measured": "whole broadcast" if window is None else f"first {window:.0f} s",
        "delivered": len(ok),
        "attempts": len(calls),
        "answered_429": len([c for c in calls if c.status == 429]),
        "injected_429": injected,
        "seconds": round(span, 1),
        "per_second": round(achieved, 2),
        "rate": RATE,
        "ratio": round(achieved / RATE, 3),
        "max_attempts_in_1s": max_calls_in_window(calls, 1.0),
        "duplicates": sum(count - 1 for count in copies.values()),
        "peak_rss_mb": round(rss, 1),
    }


async def run(ctx: Context) -> dict[str, Any]:
    """2,000 recipients whole; 10,000 over a window; each with and without 429s."""
    rows = []
    for recipients, window in ((ctx.scale(2_000, 200), None), (ctx.scale(10_000, 1_000), 30.0)):
        for with_429s in (False, True):
            row = await one(ctx, recipients, with_429s, window if not ctx.quick else 5.0)
            rows.append(row)
            print(
                f"  broadcast {recipients} 429s={with_429s}: {row['per_second']}/s "
                f"ratio {row['ratio']} duplicates {row['duplicates']}",
                flush=True,
            )
    return {"runs": rows}
