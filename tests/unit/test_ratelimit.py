"""The broadcast ceiling holds where the requests arrive, whatever the network delay."""

from __future__ import annotations

import asyncio
import random
import time

from bot.ratelimit import SlidingWindowLimiter


async def test_no_window_ever_holds_more_than_the_rate() -> None:
    limiter = SlidingWindowLimiter(rate=5, window=0.2)
    arrivals: list[float] = []
    rng = random.Random(7)

    async def send() -> None:
        async with limiter.slot():
            await asyncio.sleep(rng.uniform(0, 0.03))  # on the way there
            arrivals.append(time.monotonic())
            await asyncio.sleep(rng.uniform(0, 0.03))  # the answer on the way back

    await asyncio.gather(*(send() for _ in range(30)))
    arrivals.sort()
    most = max(sum(1 for t in arrivals if start <= t < start + 0.2) for start in arrivals)
    assert most <= 5
    assert len(arrivals) == 30


async def test_first_sends_are_not_held_back() -> None:
    limiter = SlidingWindowLimiter(rate=10, window=1.0)
    started = time.monotonic()
    for _ in range(10):
        async with limiter.slot():
            pass
    assert time.monotonic() - started < 0.5
