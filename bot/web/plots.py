"""Plots drawn on the server as numbers for inline SVG: a mood sparkline, the mood over
time (one point per check-in) and the life-domain heat map per week. No charting library
and no script: the page shows them even with JavaScript off, and they print."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from db.models import Checkin

MOOD_LEVEL = {"bad": 0, "okay": 1, "good": 2}
LIFE_DOMAINS = ("housing", "work", "money", "care", "paperwork")
STATUS_RANK = {"fine": 0, "worried": 1, "problem": 2}
HEAT_WEEKS = 12


@dataclass(frozen=True)
class Point:
    """One point of a plot, in the plot's own coordinates."""

    x: float
    y: float
    mood: str
    at: datetime | None = None


@dataclass(frozen=True)
class Plot:
    """A line through points in a `width` × `height` box."""

    width: int
    height: int
    points: Sequence[Point]

    @property
    def line(self) -> str:
        """The `points` attribute of an SVG polyline."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _y(mood: str, height: int, margin: float) -> float:
    level = MOOD_LEVEL.get(mood, 1)
    return margin + (2 - level) * (height - 2 * margin) / 2


def sparkline(moods: Sequence[str], width: int = 72, height: int = 20) -> Plot:
    """The last moods, evenly spaced, oldest left."""
    margin = 3.0
    step = (width - 2 * margin) / max(1, len(moods) - 1)
    return Plot(
        width,
        height,
        [Point(margin + i * step, _y(mood, height, margin), mood) for i, mood in enumerate(moods)],
    )


def mood_plot(checkins: Sequence[Checkin], width: int = 640, height: int = 160) -> Plot:
    """Every answered check-in at its moment: x is time, y the mood."""
    margin = 12.0
    moments = [c.completed_at for c in checkins if c.completed_at is not None]
    if not moments:
        return Plot(width, height, [])
    first, last = min(moments), max(moments)
    span = (last - first).total_seconds() or 1.0
    points = []
    for checkin in checkins:
        if checkin.completed_at is None:
            continue
        offset = (checkin.completed_at - first).total_seconds() / span
        x = margin + offset * (width - 2 * margin) if len(moments) > 1 else width / 2
        mood = checkin.mood or "okay"
        points.append(Point(x, _y(mood, height, margin), mood, checkin.completed_at))
    return Plot(width, height, points)


@dataclass(frozen=True)
class HeatRow:
    """One life domain across the weeks: the worst answer per week (None: no answer)."""

    domain: str
    cells: Sequence[str | None]


@dataclass(frozen=True)
class HeatMap:
    """Weeks (their Mondays, oldest first) and one row per life domain."""

    weeks: Sequence[date]
    rows: Sequence[HeatRow]


def heat_map(
    checkins: Sequence[Checkin], zone: tzinfo, today: datetime, weeks: int = HEAT_WEEKS
) -> HeatMap:
    """The last `weeks` weeks of life-domain answers, the worst per week and domain."""
    this_monday = today.astimezone(zone).date()
    this_monday -= timedelta(days=this_monday.weekday())
    mondays = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    index = {monday: i for i, monday in enumerate(mondays)}
    worst: dict[str, list[str | None]] = {domain: [None] * weeks for domain in LIFE_DOMAINS}
    for checkin in checkins:
        if checkin.completed_at is None or not isinstance(checkin.answers, dict):
            continue
        day = checkin.completed_at.astimezone(zone).date()
        column = index.get(day - timedelta(days=day.weekday()))
        if column is None:
            continue
        for domain, status in checkin.answers.items():
            if domain not in worst or status not in STATUS_RANK:
                continue
            known = worst[domain][column]
            if known is None or STATUS_RANK[status] > STATUS_RANK[known]:
                worst[domain][column] = status
    return HeatMap(mondays, [HeatRow(domain, worst[domain]) for domain in LIFE_DOMAINS])
