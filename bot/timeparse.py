"""Reading times, dates and durations that people type (in settings, on the command line
and in the chat), in one place so every input path accepts the same forms."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_DURATION = re.compile(r"^\s*([0-9]+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DATE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2,4}))?\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


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
    """`14:00`, `9.30`, `14u`, `14u30` or `2pm`."""
    token = text.strip().casefold()
    if not token.isascii() or not _looks_like_clock(token):
        return None
    try:
        return _clock(token)
    except Unreadable:
        return None


# -- Dates and times typed in the chat ------------------------------------------------------
# `parse_when` reads what an officer types for an appointment: `morgen 14:00`, `do 10:30`,
# `overmorgen 9u`, `vrijdag 10:30`, `7 dec 14.00`, `tomorrow 2pm`, `2026-12-07 14:00`, or
# only a day or only a time. Dutch and English words are known; anything else is refused
# with a reason (never guessed), so the person can be told what to type instead.

MAX_TYPED = 64  # a date and a time never need more; longer input is refused unread
MAX_AHEAD = timedelta(days=731)  # appointments are planned at most about two years ahead

# Why typed text was refused (Unreadable.reason).
EMPTY = "empty"
TOO_LONG = "too_long"
UNKNOWN = "unknown"  # words or signs that are not a date or a time
NO_SUCH_DAY = "no_such_day"  # looks like a date, but the day does not exist (31-2)
BAD_TIME = "bad_time"  # looks like a time, but is not one (25:00, 13pm)
WRONG_WEEKDAY = "wrong_weekday"  # a weekday and a date that do not match (vr 10-12)
PASSED = "passed"  # a day before today
TOO_FAR = "too_far"  # more than MAX_AHEAD ahead

_ALLOWED = re.compile(r"[a-z0-9 :./\-]+")
_PHRASES = (("the day after tomorrow", "overmorgen"), ("day after tomorrow", "overmorgen"))
_FILLERS = frozenset({"om", "op", "at", "on", "a.s.", "aanstaande", "this", "deze"})
_SUFFIXES = frozenset({"u", "uur", "h", "am", "pm", "a.m.", "p.m."})
_RELATIVE = {"vandaag": 0, "today": 0, "morgen": 1, "tomorrow": 1, "overmorgen": 2}
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("maandag", "ma", "monday", "mon"),
            ("dinsdag", "di", "tuesday", "tue", "tues"),
            ("woensdag", "wo", "wednesday", "wed"),
            ("donderdag", "do", "thursday", "thu", "thur", "thurs"),
            ("vrijdag", "vr", "vrij", "friday", "fri"),
            ("zaterdag", "za", "zat", "saturday", "sat"),
            ("zondag", "zo", "sunday", "sun"),
        )
    )
    for name in names
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "january", "jan"),
            ("februari", "february", "feb"),
            ("maart", "march", "mrt", "mar", "maa"),
            ("april", "apr"),
            ("mei", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("augustus", "august", "aug"),
            ("september", "sept", "sep"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/](\d{1,2})(?:[-/](\d{2}|\d{4}))?$")
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})$")  # 7.12 (a date) or 9.30 (a time)
_CLOCK = re.compile(r"^(\d{1,2})(?:(?::|\.|u|h)(\d{2}))?(u|uur|h|am|pm|a\.m\.|p\.m\.)?$")
_YEAR = re.compile(r"^\d{4}$")


class Unreadable(ValueError):
    """Typed text that is not a date or time we can be sure of. `reason` is one of the
    constants above; `day` is the date read, when the refusal is about it (a weekday that
    does not match, a day that has passed)."""

    def __init__(self, reason: str, day: date | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.day = day


@dataclass(frozen=True)
class DayTime:
    """What was typed: a day, a time of day, or both (never neither)."""

    day: date | None
    clock: time | None


def _clock(token: str) -> time | None:
    """`14:00`, `9.30`, `14u`, `14u30`, `14h`, `9 uur` (joined), `2pm`, `2:30pm`; None when
    the token is no time at all. A bare number is not a time: `14` could be a day."""
    match = _CLOCK.match(token)
    if not match or (match[2] is None and match[3] is None):
        return None
    hour, minute, suffix = int(match[1]), int(match[2] or 0), match[3]
    if suffix in ("am", "a.m.", "pm", "p.m."):
        if not 1 <= hour <= 12:
            raise Unreadable(BAD_TIME)
        hour = hour % 12 + (12 if suffix in ("pm", "p.m.") else 0)
    if hour > 23 or minute > 59:
        raise Unreadable(BAD_TIME)
    return time(hour, minute)


def _looks_like_clock(token: str) -> bool:
    return bool(_CLOCK.match(token)) and (":" in token or not token.isdigit())


def _make_day(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise Unreadable(NO_SUCH_DAY) from None


def _next_day(month: int, day: int, today: date) -> date:
    """The next such day from today on (29 February: the next year that has it)."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise Unreadable(NO_SUCH_DAY)
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise Unreadable(NO_SUCH_DAY)


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + (2000 if len(text) == 2 else 0)


def _dated(year: int | None, month: int, day: int, today: date) -> date:
    return _next_day(month, day, today) if year is None else _make_day(year, month, day)


def _tokens(text: str) -> list[str]:
    """Lower-case words with time suffixes joined to their number (`9 uur` → `9uur`)."""
    if len(text) > MAX_TYPED:
        raise Unreadable(TOO_LONG)
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().replace(",", " ").split())
    if not folded:
        raise Unreadable(EMPTY)
    if not _ALLOWED.fullmatch(folded):
        raise Unreadable(UNKNOWN)
    for phrase, word in _PHRASES:
        folded = folded.replace(phrase, word)
    tokens: list[str] = []
    for word in folded.split():
        if word in _SUFFIXES and tokens and re.fullmatch(r"\d{1,2}([:.]\d{2})?", tokens[-1]):
            tokens[-1] += word
        elif word not in _FILLERS:
            tokens.append(word.rstrip(".") if word.rstrip(".").isalpha() else word)
    if not tokens:
        raise Unreadable(UNKNOWN)
    return tokens


def parse_when(text: str, now: datetime, zone: tzinfo, *, expect: str = "day") -> DayTime:
    """Read a typed day and/or time of day, relative to `now` in `zone` (the zone times are
    entered in). Weekdays and dates without a year mean the next one from today on; a
    weekday that is today, with a time already past, means a week later. `expect` ("day"
    or "time") decides a lone `7.12`: the 7th of December, or 07:12. Raises Unreadable."""
    tokens = _tokens(text)
    local_now = now.astimezone(zone)
    today = local_now.date()
    days: list[date] = []
    weekday: int | None = None
    clock: time | None = None
    dotted: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token in _RELATIVE:
            days.append(today + timedelta(days=_RELATIVE[token]))
        elif token in _WEEKDAYS:
            if weekday is not None:
                raise Unreadable(UNKNOWN)
            weekday = _WEEKDAYS[token]
        elif match := _ISO_DAY.match(token):
            days.append(_make_day(int(match[1]), int(match[2]), int(match[3])))
        elif match := _NUMERIC_DATE.match(token) or _DOTTED_DATE.match(token):
            days.append(_dated(_year(match[3]), int(match[2]), int(match[1]), today))
        elif _DOTTED.match(token):
            dotted.append(token)
        elif token.isdigit() and len(token) <= 2 and after in _MONTHS:  # 7 dec (2026)
            year_token = tokens[index + 2] if index + 2 < len(tokens) else ""
            year = int(year_token) if _YEAR.match(year_token) else None
            days.append(_dated(year, _MONTHS[after], int(token), today))
            index += 2 if year is None else 3
            continue
        elif token in _MONTHS and after.isdigit() and len(after) <= 2:  # dec 7
            days.append(_dated(None, _MONTHS[token], int(after), today))
            index += 2
            continue
        elif _looks_like_clock(token):
            found = _clock(token)
            if found is None or clock is not None:
                raise Unreadable(UNKNOWN)
            clock = found
        else:
            raise Unreadable(UNKNOWN)
        index += 1
    for token in dotted:  # 7.12 or 9.30: a time when the day is already said
        match = _DOTTED.match(token)
        assert match is not None
        if clock is None and (days or weekday is not None or expect == "time"):
            clock = _clock(token)
            continue
        try:
            days.append(_dated(None, int(match[2]), int(match[1]), today))
        except Unreadable as refused:
            if clock is not None:
                raise
            try:
                clock = _clock(token)  # 14.00: no such date, but a time
            except Unreadable:
                raise refused from None
    return _resolve(days, weekday, clock, local_now)


def _resolve(
    days: list[date], weekday: int | None, clock: time | None, local_now: datetime
) -> DayTime:
    today = local_now.date()
    if len(set(days)) > 1:
        raise Unreadable(UNKNOWN)
    day = days[0] if days else None
    if weekday is not None:
        if day is not None and day.weekday() != weekday:
            raise Unreadable(WRONG_WEEKDAY, day)
        if day is None:
            ahead = (weekday - today.weekday()) % 7
            if ahead == 0 and clock is not None and clock <= local_now.time():
                ahead = 7
            day = today + timedelta(days=ahead)
    if day is None and clock is None:
        raise Unreadable(UNKNOWN)
    if day is not None and day < today:
        raise Unreadable(PASSED, day)
    if day is not None and day > today + MAX_AHEAD:
        raise Unreadable(TOO_FAR, day)
    return DayTime(day, clock)


def local_moment(day: date, clock: time, zone: tzinfo) -> datetime:
    """A day and time of day in `zone`, as an aware datetime (DST-correct)."""
    return datetime.combine(day, clock, tzinfo=zone)
