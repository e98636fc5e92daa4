"""A hard per-second ceiling on send attempts, as Telegram sees them.

A slot is taken before a request is sent and counts until one window after its answer
came back. Whatever the network delay between us and Telegram, two requests that are
`rate` slots apart then reach Telegram more than a window apart, so no window at Telegram
ever holds more than `rate` attempts: no initial burst, retries included.

When requests wait for a slot, the most urgent one (lowest `priority`, then the oldest)
gets the next free slot, so a crisis alert never queues behind acknowledgements. On top
of that, `reserve` slots are kept for requests more urgent than `urgent_below`: everyday
traffic never takes more than the rest, so a crisis alert finds a free slot at once
instead of waiting up to a window for one; while urgent requests are being sent (a wave
of crisis messages), `reserve_while_urgent` slots are kept instead. The slots urgent
requests use count against their reserve, not against everyday traffic's share: in a long
wave everyday traffic keeps its share instead of shrinking by what the alerts use.

A paced stream (a running broadcast) has `paced` slots of each window kept for it: while
it is sending, routine requests leave it the slots it has not used yet in the window, so
it keeps its rate however many replies wait, and it still yields to urgent requests. Its
own ceiling (`paced_at_most`, OPRIT_BROADCAST_RATE) is counted here too, the same way: a
separate limiter taken first would hold its slot while waiting for this one, and that
wait would count against the broadcast's rate. Only the request that gets a slot is
woken: with hundreds waiting, waking all of them on every change would cost more than the
sending itself.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime


class SlidingWindowLimiter:
    """At most `floor(rate)` attempts in any window of `window` seconds."""

    def __init__(
        self,
        rate: float,
        window: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        reserve: int = 0,
        urgent_below: int = 0,
        reserve_while_urgent: int | None = None,
        paced: int = 0,
        paced_at_most: int | None = None,
    ) -> None:
        self._full = (max(1, math.floor(rate)), max(0, reserve), reserve_while_urgent or 0)
        self._paced_full = max(0, paced)
        self.paced_at_most = None if paced_at_most is None else max(1, paced_at_most)
        self.urgent_below = urgent_below
        self._last_urgent = -math.inf
        self.window = window
        self._monotonic = monotonic
        self._finished: deque[float] = deque()
        self._in_flight = 0
        self._paced_finished: deque[float] = deque()
        self._paced_in_flight = 0
        self._routine_finished: deque[float] = deque()
        self._routine_in_flight = 0
        # Two heaps: a routine request held back for the paced stream must not hold it up.
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._paced_waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self.capacity = self.reserve = self.reserve_while_urgent = self.paced = 0
        self.share(1)

    def share(self, parts: int) -> None:
        """Use 1/`parts` of the rate (and of its reserves): several processes that send
        for one bot split Telegram's per-bot limit between them."""
        full, reserve, reserve_while_urgent = self._full
        parts = max(1, parts)
        self.capacity = max(1, full // parts)
        self.reserve = min(reserve // parts if reserve else 0, self.capacity - 1)
        if reserve and self.capacity > 1:
            self.reserve = max(1, self.reserve)
        self.reserve_while_urgent = min(
            max(self.reserve, reserve_while_urgent // parts), self.capacity - 1
        )
        # Not shared: one process sends a bot's broadcasts (they hold a lock for it).
        self.paced = min(self._paced_full, self.capacity - self.reserve_while_urgent)
        if self._waiting or self._paced_waiting:
            self._grant()

    def _forget_old(self) -> None:
        """Drop finished slots that have left the window."""
        now = self._monotonic()
        for finished in (self._finished, self._paced_finished, self._routine_finished):
            while finished and now - finished[0] >= self.window:
                finished.popleft()

    def _kept_for_paced(self) -> int:
        """Slots routine requests leave free: what the paced stream has not used yet in
        this window, while it is sending or waiting."""
        used = self._paced_in_flight + len(self._paced_finished)
        if not (used or self._paced_waiting):
            return 0
        return max(0, self.paced - used)

    def _wait_time(self, priority: int, paced: bool = False) -> float | None:
        """0 when a slot is free for `priority`; else seconds until one frees up (None: when
        a send ends)."""
        self._forget_old()
        wait = self._wait_in(self._in_flight, self._finished, self.capacity)
        if not self._routine(priority, paced):
            return wait
        recent = self._monotonic() - self._last_urgent < self.window
        limit = self.capacity - (self.reserve_while_urgent if recent else self.reserve)
        if not paced:
            limit -= self._kept_for_paced()
        wait = _later(wait, self._wait_in(self._routine_in_flight, self._routine_finished, limit))
        if paced and self.paced_at_most is not None:
            own = self._wait_in(self._paced_in_flight, self._paced_finished, self.paced_at_most)
            wait = _later(wait, own)
        return wait

    def _routine(self, priority: int, paced: bool) -> bool:
        """Whether a request leaves the urgent reserve alone."""
        return paced or priority >= self.urgent_below

    def _wait_in(self, in_flight: int, finished: deque[float], limit: int) -> float | None:
        """0 when fewer than `limit` of these slots are taken; else seconds until the oldest
        finished one leaves the window (None: only when a send ends)."""
        busy = in_flight + len(finished)
        if busy < limit:
            return 0.0
        leaving = busy - limit  # finished slots leave oldest first; this one must go too
        if leaving >= len(finished):
            return None
        return self.window - (self._monotonic() - finished[leaving]) + 1e-4

    def _grant(self) -> None:
        """Give free slots to the most urgent waiters; look again when the next one frees."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while True:
            waits = [
                (self._wait_time(heap[0][0], heap is self._paced_waiting), heap)
                for heap in (self._waiting, self._paced_waiting)
                if heap
            ]
            free = [heap for wait, heap in waits if wait == 0.0]
            if not free:
                later = [wait for wait, _heap in waits if wait is not None]
                if later:  # else a send that ends calls us again
                    self._timer = asyncio.get_running_loop().call_later(min(later), self._grant)
                return
            heap = min(free, key=lambda waiting: waiting[0][:2])
            priority, _arrival, granted = heapq.heappop(heap)
            if not granted.done():
                self._take(priority, heap is self._paced_waiting)
                granted.set_result(None)

    def _take(self, priority: int, paced: bool) -> None:
        self._in_flight += 1
        self._paced_in_flight += paced
        self._routine_in_flight += self._routine(priority, paced)
        if priority < self.urgent_below:
            self._last_urgent = self._monotonic()

    def _give_back(self, priority: int, paced: bool) -> None:
        self._in_flight -= 1
        self._paced_in_flight -= paced
        self._routine_in_flight -= self._routine(priority, paced)

    async def _acquire(self, priority: int, paced: bool) -> None:
        waiting = self._paced_waiting if paced else self._waiting
        if not (self._waiting or self._paced_waiting) and self._wait_time(priority, paced) == 0:
            self._take(priority, paced)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(waiting, (priority, next(self._arrivals), granted))
        self._grant()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._give_back(priority, paced)  # granted in the same moment: give it back
            else:
                waiting[:] = [entry for entry in waiting if entry[2] is not granted]
                heapq.heapify(waiting)
            self._grant()
            raise

    @asynccontextmanager
    async def slot(self, priority: int = 0, *, paced: bool = False) -> AsyncIterator[None]:
        """Hold a slot while one request is sent; lower `priority` values go first. A
        `paced` request belongs to the stream that has `paced` slots kept for it."""
        await self._acquire(priority, paced)
        try:
            yield
        finally:
            self._give_back(priority, paced)
            now = self._monotonic()
            self._finished.append(now)
            if paced:
                self._paced_finished.append(now)
            if self._routine(priority, paced):
                self._routine_finished.append(now)
            self._grant()


def _later(first: float | None, second: float | None) -> float | None:
    """The longer of two waits (None, until a send ends, is the longest)."""
    return None if first is None or second is None else max(first, second)


class FloodGate:
    """Telegram's flood control as it was told to us: until when nothing may go to a chat,
    or (chat None) to anyone. Sending into a chat during its wait makes Telegram punish the
    bot with longer waits."""

    def __init__(self) -> None:
        self._until: dict[int | None, datetime] = {}

    def hold(self, chat_id: int | None, until: datetime) -> None:
        """Nothing to this chat (None: to anyone) before `until`."""
        current = self._until.get(chat_id)
        self._until[chat_id] = until if current is None else max(current, until)

    def until(self, chat_id: int | None) -> datetime | None:
        """When the wait for this chat (None: for everyone) ends, if one was set."""
        return self._until.get(chat_id)
