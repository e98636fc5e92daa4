"""The demo's clock: the real time plus an offset that only the demo's time travel moves.

It is handed to the bot like any injected clock (bot/clock.py); a real deployment uses the
system clock and has no way to move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class TimeTravelError(ValueError):
    """A move the demo clock refuses (backwards, or absurdly far)."""


MAX_JUMP = timedelta(days=366)


class DemoClock:
    """Real time, shifted forward by time travel."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The demo's current moment, aware, in UTC."""
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        """How far the demo is ahead of the real time."""
        return self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta`; returns the new now."""
        if delta <= timedelta(0):
            raise TimeTravelError("time only moves forward")
        if delta > MAX_JUMP:
            raise TimeTravelError("at most a year at a time")
        self._offset += delta
        return self.now()

    def travel_to(self, moment: datetime) -> datetime:
        """Move forward to `moment` (aware); returns the new now."""
        return self.advance(moment.astimezone(UTC) - self.now())
