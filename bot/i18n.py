"""Translations (gettext catalogs) and locale-aware dates through Babel.

The catalogs are the package's `bot/locales/` in an installed wheel (compiled while the
wheel is built, see setup.py) and the checkout's top-level `locales/` otherwise.

The language of the person being answered is held in a context variable, set once per
update; `_()` and `ngettext()` read it. Officer alerts switch to the officer's language
with `use_language`.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"


def _locales_dir() -> Path:
    """The catalogs shipped in the wheel, else the source checkout's `locales/`.

    pip installs wheels unpacked, so the packaged folder is a real directory."""
    packaged = resources.files("bot").joinpath("locales")
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "locales"


LOCALES_DIR = _locales_dir()
FALLBACK_LANGUAGE = "nl"

_language: ContextVar[str] = ContextVar("oprit_language", default=FALLBACK_LANGUAGE)


@cache
def available_languages() -> tuple[str, ...]:
    """Languages with a catalog, the fallback language first."""
    found = sorted(
        {path.parent.parent.name for path in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.[mp]o")}
    )
    return tuple(sorted(found, key=lambda lang: lang != FALLBACK_LANGUAGE))


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog; compiled in memory when the .mo is missing or older than the
    .po (a checkout after `git pull`). A wheel holds only the .mo files."""
    folder = LOCALES_DIR / language / "LC_MESSAGES"
    po_file, mo_file = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo_file.exists() and (
        not po_file.exists() or mo_file.stat().st_mtime >= po_file.stat().st_mtime
    ):
        with mo_file.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if not po_file.exists():
        return gettext.NullTranslations()
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def normalise_language(code: str | None, default: str) -> str:
    """Map a Telegram language_code like `en-GB` onto a catalog we have."""
    if code:
        base = code.replace("_", "-").split("-")[0].lower()
        if base in available_languages():
            return base
    return default


def current_language() -> str:
    """The language of the person the current update is being answered for."""
    return _language.get()


def set_language(language: str) -> None:
    """Answer in `language` from now on in this task (one update)."""
    _language.set(language if language in available_languages() else FALLBACK_LANGUAGE)


@contextmanager
def use_language(language: str) -> Iterator[None]:
    """Temporarily speak another language, e.g. an officer's in the middle of a reply."""
    token = _language.set(language if language in available_languages() else FALLBACK_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def _(message: str) -> str:
    """Translate into the current language."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate with the plural form the current language uses for `count`."""
    return translations(_language.get()).ngettext(singular, plural, count)


def language_name(language: str, in_language: str | None = None) -> str:
    """A language in its own name (Nederlands, English, العربية) for the picker, or in
    another language (an officer reads "Arabisch")."""
    name = Locale.parse(language).get_display_name(in_language or language) or language
    return name[:1].upper() + name[1:]


def when(moment: datetime, zone: tzinfo, now: datetime | None = None) -> str:
    """A date and time as a person reads it: `donderdag 3 december 14:00`, and with `now`
    given, today and tomorrow said so: `morgen, maandag 7 december 14:00`."""
    local = moment.astimezone(zone)
    language = _language.get()
    text = f"{format_date(local, 'EEEE d MMMM', locale=language)} "
    text += format_time(local, "HH:mm", locale=language)
    if now is not None:
        days = (local.date() - now.astimezone(zone).date()).days
        word = relative_day(days, language)
        if word:
            text = f"{word}{'، ' if language == 'ar' else ', '}{text}"
    return text


def relative_day(days: int, language: str) -> str | None:
    """`today`, `tomorrow`, … from the locale's own data (CLDR), if it has a word."""
    if days not in (0, 1, 2):
        return None
    words = Locale.parse(language)._data["date_fields"]["day"]["relative"]
    return str(words[days]) if days in words else None


def day_label(day: date) -> str:
    """A calendar date without a time, as people write it: `15 januari`."""
    return format_date(day, "d MMMM", locale=_language.get())


def timestamp(moment: datetime, zone: tzinfo) -> str:
    """A compact date and time for lists, without seconds: `3 dec 2026 14:00`."""
    local = moment.astimezone(zone)
    language = _language.get()
    day = format_skeleton("yMMMd", local, locale=language)
    return f"{day} {format_time(local, 'HH:mm', locale=language)}"


def clock_time(moment: datetime, zone: tzinfo) -> str:
    """A time of day without seconds: `10:02`."""
    return format_time(moment.astimezone(zone), "HH:mm", locale=_language.get())
