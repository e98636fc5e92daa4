"""The message template is current with the code, and translations are really used.

Per-language completeness, placeholders, plurals and right-to-left rules are checked in
`test_languages.py`.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, _, ngettext, use_language

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "ngettext": (1, 2)}


def _code_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder,
            # the dashboard's Jinja2 templates call _() and ngettext() like the code
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            keywords=KEYWORDS,
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
