"""A hard per-second ceiling on send attempts, as Telegram sees them.

A slot is taken before a request is sent and counts until one window after its answer
came back. Whatever the network delay between us and Telegram, two requests that are
`rate` slots apart then reach Telegram more than a window apart, so no window at Telegram
ever holds more than `rate` attempts: no initial burst, retries included.

When requests wait for a slot, the most urgent one (lowest `priority`, then the oldest)
gets the next free slot, so a crisis alert never queues behind acknowledgements. On top
of that, `reserve` slots are kept for requests more urgent than `urgent_below`: everyday
traffic never fills the window, so a crisis alert finds a free slot at once instead of
waiting up to a window for one; while urgent requests are being sent (a wave of crisis
messages), `reserve_while_urgent` slots are kept instead. Only the request that gets a
slot is woken: with hundreds waiting, waking all of them on every change would cost more
than the sending itself.
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
    ) -> None:
        self._full = (max(1, math.floor(rate)), max(0, reserve), reserve_while_urgent or 0)
        self.urgent_below = urgent_below
        self._last_urgent = -math.inf
        self.window = window
        self._monotonic = monotonic
        self._finished: deque[float] = deque()
        self._in_flight = 0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap
        self._arrivals = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self.capacity = self.reserve = self.reserve_while_urgent = 0
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
        if self._waiting:
            self._grant()

    def _busy(self) -> int:
        now = self._monotonic()
        while self._finished and now - self._finished[0] >= self.window:
            self._finished.popleft()
        return self._in_flight + len(self._finished)

    def _wait_time(self, priority: int) -> float | None:
        """0 when a slot is free for `priority`; else seconds until one frees up (None: when
        a send ends)."""
        limit = self.capacity
        if priority >= self.urgent_below:
            recent = self._monotonic() - self._last_urgent < self.window
            limit -= self.reserve_while_urgent if recent else self.reserve
        busy = self._busy()
        if busy < limit:
            return 0.0
        leaving = busy - limit  # finished slots leave oldest first; this one must go too
        if leaving >= len(self._finished):
            return None
        return self.window - (self._monotonic() - self._finished[leaving]) + 1e-4

    def _grant(self) -> None:
        """Give free slots to the most urgent waiters; look again when the next one frees."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting:
            wait = self._wait_time(self._waiting[0][0])
            if wait is None:
                return  # a send that ends calls us again
            if wait > 0:
                self._timer = asyncio.get_running_loop().call_later(wait, self._grant)
                return
            priority, _arrival, granted = heapq.heappop(self._waiting)
            if not granted.done():
                self._take(priority)
                granted.set_result(None)

    def _take(self, priority: int) -> None:
        self._in_flight += 1
        if priority < self.urgent_below:
            self._last_urgent = self._monotonic()

    async def _acquire(self, priority: int) -> None:
        if not self._waiting and self._wait_time(priority) == 0.0:
            self._take(priority)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), granted))
        self._grant()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._in_flight -= 1  # granted in the same moment: give the slot back
            else:
                self._waiting = [entry for entry in self._waiting if entry[2] is not granted]
                heapq.heapify(self._waiting)
            self._grant()
            raise

    @asynccontextmanager
    async def slot(self, priority: int = 0) -> AsyncIterator[None]:
        """Hold a slot while one request is sent; lower `priority` values go first."""
        await self._acquire(priority)
        try:
            yield
        finally:
            self._in_flight -= 1
            self._finished.append(self._monotonic())
            self._grant()


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
