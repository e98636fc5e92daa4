"""Languages: nl, en, ar, tr and pl are complete, keep their placeholders and read right.

Fuzzy (uncertain) translations are allowed only when listed in `locales/known_gaps.txt`.
Arabic rule (see docs/rtl-check/README.md): every placeholder, /command, Latin word and
number in an Arabic translation sits inside a First Strong Isolate (U+2068 … U+2069), so
the bidi algorithm neither flips `0800-0113` nor lets a Latin name decide the direction;
and every line starts right to left (a line that would not gets an Arabic Letter Mark),
except the reply-keyboard labels, which come back as text and must stay plain.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot import flows
from bot.i18n import LOCALES_DIR, available_languages, language_name, ngettext, use_language

LANGUAGES = ("nl", "en", "ar", "tr", "pl")
KNOWN_GAPS = LOCALES_DIR / "known_gaps.txt"
FSI, PDI, ALM = "\u2068", "\u2069", "\u061c"
BIDI_MARKS = (FSI, PDI, ALM, "\u200e", "\u200f", "\u2066", "\u2067", "\u202a", "\u202b")
ISOLATED = re.compile(f"{FSI}[^{FSI}{PDI}\n]*{PDI}")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")
NUMBER = re.compile(r"\d+(?:[-:]\d+)*")
PLURAL_COUNTS = (0, 1, 2, 5, 11, 22, 101)
MAX_LENGTH = 3500
SAFETY_NUMBERS = ("113", "0800-0113", "112")

# A number in the English source that a translation may write as a word, with the reason.
NUMBER_AS_WORD = {
    ("ar", "Before we start, this is what happens with your messages:"): {
        "2": "'2 years' is the Arabic dual سنتين, which means exactly two years",
    },
}


def _po(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def _catalog(language: str) -> Catalog:
    with _po(language).open("rb") as handle:
        return read_po(handle, locale=language)


@cache
def _template_ids() -> frozenset[str]:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        return frozenset(_first(m) for m in read_po(handle) if m.id)


def _first(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _strings(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _messages(language: str) -> Iterator[Message]:
    return (m for m in _catalog(language) if m.id)


def _gap_key(message: Message) -> str:
    return _first(message).splitlines()[0][:60]


@cache
def _known_gaps() -> frozenset[tuple[str, str]]:
    gaps = set()
    for line in KNOWN_GAPS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        language, _tab, key = line.partition("\t")
        assert key, f"known_gaps.txt: expected '<lang>\\t<msgid>', got {line!r}"
        gaps.add((language, key))
    return frozenset(gaps)


def _without_isolates(text: str) -> str:
    return text.replace(FSI, "").replace(PDI, "").replace(ALM, "")


def _paragraph_direction(line: str) -> str | None:
    """The Unicode bidi rule P2: the first strong character, skipping isolates."""
    depth = 0
    for char in line:
        if char == FSI:
            depth += 1
        elif char == PDI:
            depth -= 1
        elif depth == 0 and unicodedata.bidirectional(char) in ("L", "R", "AL"):
            return "ltr" if unicodedata.bidirectional(char) == "L" else "rtl"
    return None


def test_every_language_is_available() -> None:
    assert set(LANGUAGES) <= set(available_languages())


def test_language_picker_names_each_language_in_itself() -> None:
    names = {language: language_name(language) for language in LANGUAGES}
    assert names == {
        "nl": "Nederlands",
        "en": "English",
        "ar": "العربية",
        "tr": "Türkçe",
        "pl": "Polski",  # Babel says "polski"; language_name capitalises the first letter
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_exactly_the_template_strings(language: str) -> None:
    assert {_first(m) for m in _messages(language)} == _template_ids()


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_header_is_babels_rule(language: str) -> None:
    assert _catalog(language).plural_forms == Catalog(locale=language).plural_forms


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete_and_only_known_gaps_are_fuzzy(language: str) -> None:
    listed = {key for lang, key in _known_gaps() if lang == language}
    fuzzy = set()
    for message in _messages(language):
        strings = _strings(message)
        assert len(strings) == (_catalog(language).num_plurals if message.pluralizable else 1)
        assert all(s.strip() for s in strings), f"{language}: untranslated {_first(message)!r}"
        if message.fuzzy:
            fuzzy.add(_gap_key(message))
    assert fuzzy - listed == set(), f"{language}: fuzzy but not in known_gaps.txt"
    assert listed - fuzzy == set(), f"{language}: listed in known_gaps.txt but not fuzzy (stale)"


def test_known_gaps_name_real_languages() -> None:
    assert {language for language, _key in _known_gaps()} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_commands_and_numbers_are_kept(language: str) -> None:
    for message in _messages(language):
        source = _first(message)
        allowed_words = NUMBER_AS_WORD.get((language, source.splitlines()[0]), {})
        for text in map(_without_isolates, _strings(message)):
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), (
                f"{language}: placeholders differ in {source!r}"
            )
            assert sorted(COMMAND.findall(text)) == sorted(COMMAND.findall(source)), (
                f"{language}: /commands differ in {source!r}"
            )
            numbers = set(NUMBER.findall(text))
            for number in NUMBER.findall(source):
                assert number in numbers or number in allowed_words, (
                    f"{language}: number {number} missing in the translation of {source!r}"
                )


@pytest.mark.parametrize("language", LANGUAGES)
def test_safety_messages_keep_every_emergency_number(language: str) -> None:
    safety = [m for m in _messages(language) if "0800-0113" in _first(m)]
    assert len(safety) == 3  # self-harm, violence, and the shorter line for a repeat
    for message in safety:
        assert not message.fuzzy
        text = _without_isolates(message.string)
        for number in SAFETY_NUMBERS:
            assert re.search(rf"(?<![\d-]){re.escape(number)}(?![\d-])", text), (language, number)


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_entries_give_a_counted_form_for_every_count(language: str) -> None:
    plurals = [m for m in _messages(language) if m.pluralizable]
    assert plurals
    for message in plurals:
        singular, plural = message.id
        counted = "{days}" if "{days}" in plural else "{count}"  # the placeholder it counts
        for count in PLURAL_COUNTS:
            with use_language(language):
                text = ngettext(singular, plural, count)
            assert text.strip() and counted in text, (language, singular, count)
            assert text in _strings(message), f"{language}: {count} did not use the catalog"


def test_plural_form_choice_follows_the_language() -> None:
    """The form index gettext picks, for counts where the languages differ."""
    expected = {
        "ar": {0: 0, 1: 1, 2: 2, 5: 3, 11: 4, 22: 4, 101: 5},
        "pl": {0: 2, 1: 0, 2: 1, 5: 2, 11: 2, 22: 1, 101: 2},
        "tr": {0: 1, 1: 0, 2: 1, 5: 1, 11: 1, 22: 1, 101: 1},
    }
    for language, forms in expected.items():
        message = next(m for m in _messages(language) if m.pluralizable)
        singular, plural = message.id
        for count, index in forms.items():
            with use_language(language):
                assert ngettext(singular, plural, count) == message.string[index], (
                    language,
                    count,
                )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_translation_is_too_long_for_telegram(language: str) -> None:
    for message in _messages(language):
        for text in _strings(message):
            assert len(text) <= MAX_LENGTH, f"{language}: too long: {_first(message)!r}"


def test_arabic_isolates_every_latin_run_number_command_and_placeholder() -> None:
    for message in _messages("ar"):
        for text in _strings(message):
            assert text.count(FSI) == text.count(PDI), _first(message)
            outside = ISOLATED.sub("", text)
            assert FSI not in outside and PDI not in outside, f"unbalanced: {_first(message)!r}"
            stray = re.findall(r"[A-Za-z0-9{}]+|/[a-z]", outside)
            assert stray == [], f"not isolated in {_first(message)!r}: {stray}"


def test_arabic_lines_read_right_to_left() -> None:
    with use_language("ar"):
        keyboard = {label for row in flows.keyboard_rows() for label in row}
    for message in _messages("ar"):
        for text in _strings(message):
            if text in keyboard:
                continue
            for line in filter(str.strip, text.split("\n")):
                assert _paragraph_direction(line) == "rtl", f"{_first(message)!r}: {line!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_reply_keyboard_labels_have_no_invisible_marks(language: str) -> None:
    """Reply-keyboard labels come back as message text and are matched exactly."""
    with use_language(language):
        labels = [label for row in flows.keyboard_rows() for label in row]
    for label in labels:
        assert not any(mark in label for mark in BIDI_MARKS), (language, label)


def test_keyboard_labels_never_mean_two_actions() -> None:
    """A label typed back from an old keyboard must map to one action in every language."""
    seen: dict[str, str] = {}
    for language in LANGUAGES:
        with use_language(language):
            for flow in flows.FLOWS:
                if flow.keyboard is not None:
                    label = flow.keyboard()
                    assert seen.setdefault(label, flow.id) == flow.id, (language, label)
