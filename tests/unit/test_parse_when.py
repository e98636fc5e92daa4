"""What an officer types for an appointment: `morgen 14:00`, `do 10:30`, `7 dec 14.00`, …;
anything unsure is refused with a reason, never guessed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import (
    BAD_TIME,
    EMPTY,
    NO_SUCH_DAY,
    PASSED,
    TOO_FAR,
    TOO_LONG,
    UNKNOWN,
    WRONG_WEEKDAY,
    DayTime,
    Unreadable,
    parse_when,
)

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thursday 3 December, 10:00 in Amsterdam


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("morgen 14:00", DayTime(date(2026, 12, 4), time(14, 0))),
        ("do 10:30", DayTime(date(2026, 12, 3), time(10, 30))),
        ("do 9:30", DayTime(date(2026, 12, 10), time(9, 30))),  # today's 9:30 has passed
        ("overmorgen 9 uur", DayTime(date(2026, 12, 5), time(9, 0))),
        ("vrijdag", DayTime(date(2026, 12, 4), None)),
        ("7 dec 14.00", DayTime(date(2026, 12, 7), time(14, 0))),
        ("tomorrow 2pm", DayTime(date(2026, 12, 4), time(14, 0))),
        ("2026-12-07 14:00", DayTime(date(2026, 12, 7), time(14, 0))),
        ("7-12", DayTime(date(2026, 12, 7), None)),
        ("2-1", DayTime(date(2027, 1, 2), None)),  # without a year: the next one
        ("  Morgen   OM 14u30 ", DayTime(date(2026, 12, 4), time(14, 30))),
        ("14:00", DayTime(None, time(14, 0))),
    ],
)
def test_typed_days_and_times(typed: str, expected: DayTime) -> None:
    assert parse_when(typed, NOW, ZONE) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", EMPTY),
        ("   ", EMPTY),
        ("x" * 65, TOO_LONG),
        ("volgende week ergens", UNKNOWN),
        ("morgen 25:00", UNKNOWN),
        ("31-2", NO_SUCH_DAY),
        ("vr 10-12", WRONG_WEEKDAY),
        ("1-12-2026", PASSED),
        ("1-1-2030", TOO_FAR),
        ("غدا 14:00", UNKNOWN),  # right-to-left text is not guessed at
        ("morgen; DROP TABLE", UNKNOWN),
        ("morgen\x00 14:00", UNKNOWN),
        ("ma di", UNKNOWN),
    ],
)
def test_unsure_input_is_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(Unreadable) as refused:
        parse_when(typed, NOW, ZONE)
    assert refused.value.reason in (reason, BAD_TIME)
