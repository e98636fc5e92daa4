"""A reporting duty's schedule: parsed strictly, and its moments keep the local clock time
across a summer-time change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services import reporting
from bot.services.plan import PlanError

ZONE = ZoneInfo("Europe/Amsterdam")


def _schedule(**changes: object) -> reporting.Schedule | None:
    values: dict[str, object] = {
        "weekday": "Tuesday", "at": "9:30", "every_weeks": 2, "with_org": "Reclassering",
        "place": None,
    }  # fmt: skip
    values.update(changes)
    return reporting.parse_schedule(**values)  # type: ignore[arg-type]


def test_the_local_time_stays_across_summer_time() -> None:
    schedule = _schedule(every_weeks=1, at="10:00")
    assert schedule is not None
    moments = reporting.reporting_times(
        schedule,
        first_day=date(2027, 3, 20),
        last_day=date(2027, 4, 6),
        now=datetime(2027, 3, 1, tzinfo=UTC),
        zone=ZONE,
    )
    assert [m.astimezone(ZONE).strftime("%a %d %H:%M") for m in moments] == [
        "Tue 23 10:00", "Tue 30 10:00", "Tue 06 10:00",
    ]  # fmt: skip
    assert [m.hour for m in moments] == [9, 8, 8]  # UTC: winter, then summer time


def test_every_other_week_and_nothing_already_past() -> None:
    schedule = _schedule()
    assert schedule is not None and schedule.as_json()["time"] == "09:30"
    assert reporting.Schedule.from_json(schedule.as_json()) == schedule
    moments = reporting.reporting_times(
        schedule,
        first_day=date(2026, 12, 1),  # a Tuesday, its 09:30 already past
        last_day=date(2027, 1, 12),
        now=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        zone=ZONE,
    )
    assert [m.astimezone(ZONE).date() for m in moments] == [
        date(2026, 12, 15), date(2026, 12, 29), date(2027, 1, 12),
    ]  # fmt: skip


def test_no_schedule_when_nothing_is_given() -> None:
    assert (
        reporting.parse_schedule(weekday=None, at=None, every_weeks=None, with_org=None, place=None)
        is None
    )


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"weekday": "dinsdag"}, "not one of"),
        ({"weekday": "tuexyz"}, "not one of"),
        ({"weekday": "tuesdayyyyyyyyy"}, "not one of"),
        ({"weekday": ""}, "not one of"),
        ({"weekday": "ثلاثاء"}, "not one of"),
        ({"at": "24:00"}, "not a time"),
        ({"at": "10.00"}, "not a time"),
        ({"at": "1000"}, "not a time"),
        ({"at": "x" * 100_000}, "not a time"),
        ({"every_weeks": 0}, "from 1 to 52"),
        ({"every_weeks": 10**9}, "from 1 to 52"),
        ({"with_org": "\u202eReclassering"}, "text-direction"),
        ({"with_org": "Reclas\x00sering"}, "control character"),
        ({"place": "p" * 501}, "longer than"),
        ({"at": None}, "needs --weekday"),
        ({"with_org": None}, "needs --weekday"),
    ],
)
def test_bad_schedules(changes: dict[str, object], error: str) -> None:
    with pytest.raises(PlanError, match=error):
        _schedule(**changes)
