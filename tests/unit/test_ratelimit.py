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


async def test_the_most_urgent_waiter_gets_the_next_slot() -> None:
    limiter = SlidingWindowLimiter(rate=2, window=0.2)
    order: list[str] = []

    async def send(name: str, priority: int) -> None:
        async with limiter.slot(priority):
            order.append(name)

    first = [asyncio.create_task(send(f"first-{n}", 20)) for n in range(2)]
    await asyncio.sleep(0)  # both take a slot at once; the window is full now
    waiting = [asyncio.create_task(send(f"ack-{n}", 20)) for n in range(4)]
    await asyncio.sleep(0)
    urgent = asyncio.create_task(send("alert", 5))
    await asyncio.gather(*first, *waiting, urgent)
    assert order[:3] == ["first-0", "first-1", "alert"]
    assert sorted(order[3:]) == [f"ack-{n}" for n in range(4)]


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    limiter = SlidingWindowLimiter(rate=1, window=0.1)
    done: list[str] = []

    async def send(name: str) -> None:
        async with limiter.slot():
            done.append(name)

    await send("first")
    gone = asyncio.create_task(send("gone"))
    later = asyncio.create_task(send("later"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(later, return_exceptions=True)
    assert done == ["first", "later"]


async def test_reserved_slots_stay_free_for_urgent_requests() -> None:
    limiter = SlidingWindowLimiter(rate=5, window=1.0, reserve=2, urgent_below=10)
    granted: list[tuple[str, float]] = []
    started = time.monotonic()

    async def send(name: str, priority: int) -> None:
        async with limiter.slot(priority):
            granted.append((name, time.monotonic() - started))

    routine = [asyncio.create_task(send(f"ack-{n}", 20)) for n in range(6)]
    await asyncio.sleep(0.05)
    assert [name for name, _at in granted] == ["ack-0", "ack-1", "ack-2"]  # 5 - 2 reserved
    await asyncio.gather(*(send(f"alert-{n}", 5) for n in range(2)))
    assert [name for name, at in granted[3:]] == ["alert-0", "alert-1"]
    assert all(at < 0.5 for _name, at in granted[3:])  # not a window later
    await asyncio.gather(*routine)
    window_starts = [at for _name, at in granted]
    most = max(sum(1 for t in window_starts if start <= t < start + 1.0) for start in window_starts)
    assert most <= 5


async def test_a_wave_of_urgent_requests_keeps_more_slots_free() -> None:
    limiter = SlidingWindowLimiter(
        rate=10, window=1.0, reserve=2, reserve_while_urgent=5, urgent_below=10
    )
    granted: list[str] = []

    async def send(name: str, priority: int) -> None:
        async with limiter.slot(priority):
            granted.append(name)

    async with limiter.slot(5):  # an alert went out a moment ago
        pass
    routine = [asyncio.create_task(send(f"ack-{n}", 20)) for n in range(8)]
    await asyncio.sleep(0.05)
    assert len(granted) == 4  # 10 - 5 kept - the alert's slot
    await asyncio.gather(*(send(f"alert-{n}", 5) for n in range(5)))
    assert granted[4:] == [f"alert-{n}" for n in range(5)]  # none of them waited
    for task in routine:
        task.cancel()
    await asyncio.gather(*routine, return_exceptions=True)


async def test_a_paced_stream_keeps_its_slots_behind_urgent_and_ahead_of_routine() -> None:
    limiter = SlidingWindowLimiter(rate=10, window=0.5, reserve=2, urgent_below=10, paced=4)
    granted: list[str] = []

    async def send(name: str, priority: int, *, paced: bool = False) -> None:
        async with limiter.slot(priority, paced=paced):
            granted.append(name)
            await asyncio.sleep(0.01)

    routine = [asyncio.create_task(send(f"ack-{n}", 20)) for n in range(40)]
    await asyncio.sleep(0)
    stream = [asyncio.create_task(send(f"bc-{n}", 60, paced=True)) for n in range(8)]
    urgent = [asyncio.create_task(send(f"alert-{n}", 5)) for n in range(3)]
    await asyncio.gather(*stream, *urgent)
    # The alerts take the next free slots; then each window of ten has four for the stream
    # and four for the 40 routine requests that came first and are more urgent (2 reserved).
    assert granted[8:11] == ["alert-0", "alert-1", "alert-2"]
    assert sum(name.startswith("ack") for name in granted[: granted.index("bc-7")]) <= 8 + 4 + 4
    await asyncio.gather(*routine)
    assert len(granted) == 51
