"""Reading times, dates and durations that people type (in settings, on the command line
and in the chat), in one place so every input path accepts the same forms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_DURATION = re.compile(r"^\s*([0-9]+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DATE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2,4}))?\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


def parse_duration(value: str) -> timedelta:
    """Parse `90m`, `24h`, `1d`, `30s` or `2w` into a timedelta (ValueError otherwise)."""
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a duration like 30s, 90m, 24h or 1d")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])


def parse_local_time(text: str, zone: tzinfo) -> datetime:
    """ISO 8601; without an offset it is local time in `zone` (DST-correct). Returns UTC;
    ValueError with a sentence a person understands otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date and time like 2026-12-03T14:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def parse_date(text: str, today: date) -> date | None:
    """`7-12`, `07-12-2026`, `7/12/26` or `2026-12-07`; a date without year is the next one."""
    if not text.isascii():
        return None
    try:
        if match := _ISO_DATE.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DATE.match(text):
            day, month = int(match[1]), int(match[2])
            if match[3]:
                year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
                return date(year, month, day)
            candidate = date(today.year, month, day)
            return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None
    return None


def parse_time(text: str) -> time | None:
    """`14:00` or `9.30`."""
    match = _TIME.match(text) if text.isascii() else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))
