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
    # 10 - 5 kept for urgent requests; the alert's own slot is one of the 5, not taken
    # from everyday traffic's share (a long wave would otherwise leave it almost nothing)
    assert len(granted) == 5
    await asyncio.gather(*(send(f"alert-{n}", 5) for n in range(4)))
    assert granted[5:] == [f"alert-{n}" for n in range(4)]  # none of them waited
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


async def test_a_paced_stream_stays_under_its_own_ceiling_where_requests_arrive() -> None:
    limiter = SlidingWindowLimiter(rate=10, window=0.2, paced=3, paced_at_most=3)
    stream_arrivals: list[float] = []
    routine_arrivals: list[float] = []
    rng = random.Random(11)

    async def send(arrivals: list[float], *, paced: bool) -> None:
        async with limiter.slot(60 if paced else 20, paced=paced):
            await asyncio.sleep(rng.uniform(0, 0.02))
            arrivals.append(time.monotonic())
            await asyncio.sleep(rng.uniform(0, 0.02))

    await asyncio.gather(
        *(send(stream_arrivals, paced=True) for _ in range(15)),
        *(send(routine_arrivals, paced=False) for _ in range(30)),
    )

    def most_in_a_window(arrivals: list[float]) -> int:
        return max(sum(1 for t in arrivals if start <= t < start + 0.2) for start in arrivals)

    assert most_in_a_window(stream_arrivals) <= 3  # its own rate, however many slots are free
    assert most_in_a_window(stream_arrivals + routine_arrivals) <= 10
    assert len(stream_arrivals) == 15 and len(routine_arrivals) == 30


async def test_a_paced_request_waiting_for_its_ceiling_holds_no_shared_slot() -> None:
    """While the stream waits for its own ceiling, routine requests use the free slots: one
    limiter decides both, so nothing sits on a slot it cannot use yet."""
    limiter = SlidingWindowLimiter(rate=6, window=0.2, paced=2, paced_at_most=2)
    granted: list[str] = []

    async def send(name: str, *, paced: bool) -> None:
        async with limiter.slot(60 if paced else 20, paced=paced):
            granted.append(name)

    await asyncio.gather(
        *(send(f"bc-{n}", paced=True) for n in range(4)),
        *(send(f"ack-{n}", paced=False) for n in range(8)),
    )
    first_window = granted[:6]
    assert sum(name.startswith("bc") for name in first_window) == 2
    assert sum(name.startswith("ack") for name in first_window) == 4
    assert len(granted) == 12
