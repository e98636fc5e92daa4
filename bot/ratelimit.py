"""A hard per-second ceiling on send attempts, as Telegram sees them.

A slot is taken before a request is sent and counts until one window after its answer
came back. Whatever the network delay between us and Telegram, two requests that are
`rate` slots apart then reach Telegram more than a window apart, so no window at Telegram
ever holds more than `rate` attempts: no initial burst, retries included.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class SlidingWindowLimiter:
    """At most `floor(rate)` attempts in any window of `window` seconds."""

    def __init__(
        self,
        rate: float,
        window: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = max(1, math.floor(rate))
        self.window = window
        self._monotonic = monotonic
        self._finished: deque[float] = deque()
        self._in_flight = 0
        self._changed = asyncio.Condition()

    def _busy(self) -> int:
        now = self._monotonic()
        while self._finished and now - self._finished[0] >= self.window:
            self._finished.popleft()
        return self._in_flight + len(self._finished)

    def _wait_time(self) -> float | None:
        """0 when a slot is free; else seconds until one frees up (None: when a send ends)."""
        if self._busy() < self.capacity:
            return 0.0
        if not self._finished:
            return None
        return self.window - (self._monotonic() - self._finished[0]) + 1e-4

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot while one request is sent."""
        async with self._changed:
            while (wait := self._wait_time()) != 0.0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=wait)
            self._in_flight += 1
        try:
            yield
        finally:
            async with self._changed:
                self._in_flight -= 1
                self._finished.append(self._monotonic())
                self._changed.notify_all()
