"""A sliding-window rate limit: never more than `rate` attempts in any one-second window.

Unlike a token bucket there is no initial burst: the ceiling holds from the first send,
retries included, because every attempt takes a slot.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most `floor(rate * window)` acquisitions in any `window` seconds."""

    def __init__(
        self,
        rate: float,
        window: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = max(1, math.floor(rate * window))
        self.window = window
        self._monotonic = monotonic
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()

    def delay_needed(self) -> float:
        """Seconds until a slot frees up (0 when one is free now)."""
        now = self._monotonic()
        while self._stamps and now - self._stamps[0] >= self.window:
            self._stamps.popleft()
        if len(self._stamps) < self.capacity:
            return 0.0
        return self.window - (now - self._stamps[0]) + 1e-4

    async def acquire(self) -> None:
        """Wait for a slot and take it."""
        async with self._lock:
            # The wait is for time to pass, not for an event, so a sleep loop is right here.
            while (delay := self.delay_needed()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(delay)
            self._stamps.append(self._monotonic())
