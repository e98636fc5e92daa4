"""Translations: every catalog is complete, current with the code, and safe to send."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, _, available_languages, ngettext, use_language

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _code_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_template_is_current_with_the_code() -> None:
    template = _ids(_catalog(LOCALES_DIR / "messages.pot"))
    code = _code_messages()
    assert code - template == set(), "strings missing from messages.pot: run `make extract`"
    assert template - code == set(), "stale strings in messages.pot: run `make extract`"


def test_at_least_dutch_and_english() -> None:
    assert {"nl", "en"} <= set(available_languages())
    assert available_languages()[0] == "nl"


@pytest.mark.parametrize("language", available_languages())
def test_catalog_is_complete_and_current(language: str) -> None:
    catalog = _catalog(LOCALES_DIR / language / "LC_MESSAGES" / "messages.po", language)
    assert _ids(catalog) == _code_messages(), f"{language}: run `make extract`"
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: untranslated {message.id!r}"
        assert "fuzzy" not in message.flags, f"{language}: fuzzy {message.id!r}"
        source = message.id if isinstance(message.id, str) else message.id[0]
        for text in strings:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), (
                f"{language}: placeholders differ in {source!r}"
            )
            assert len(text) <= 3500, f"{language}: too long for one Telegram message"


def test_translations_are_used() -> None:
    with use_language("nl"):
        assert _("Not now") == "Nu niet"
    with use_language("en"):
        assert _("Not now") == "Not now"
    with use_language("xx"):
        assert _("Not now") == "Nu niet"  # unknown languages fall back to Dutch


def test_plural_forms_work() -> None:
    with use_language("en"):
        assert ngettext("{n} message", "{n} messages", 1) == "{n} message"
        assert ngettext("{n} message", "{n} messages", 2) == "{n} messages"
