"""A clock that only moves when a test says so."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.services.plan import local_today


class ManualClock:
    """A clock that only moves when told to; injected wherever the bot reads the time."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The frozen moment."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move forward."""
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Jump to a moment."""
        self._now = moment.astimezone(UTC)


def officer_today() -> date:
    """Today where the officer works (the default OPRIT_TIMEZONE), which is what the bot
    counts days in: after 23:00 UTC in winter it is already tomorrow in Amsterdam, so a test
    that counts days from the machine's `date.today()` fails for an hour every night."""
    zone = ZoneInfo(str(Settings.model_fields["timezone"].default))
    return local_today(datetime.now(UTC), zone)
