"""Typo tolerance of the rules: long crisis words one edit off, split compounds, chat
spellings; corrections only ever add matches and map back to what the person typed."""

from __future__ import annotations

import pytest

from bot.triage import rules as triage_rules
from bot.triage import typos
from bot.triage.match import find
from bot.triage.normalise import normalise


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("zelfmord", "zelfmord", True),
        ("zelfmort", "zelfmord", True),  # substitution
        ("zelmord", "zelfmord", True),  # deletion
        ("zelfmoord", "zelfmord", True),  # insertion
        ("zlefmord", "zelfmord", True),  # neighbours swapped
        ("zelfmrod", "zelfmord", True),
        ("zelfmxrt", "zelfmord", False),
        ("elfmordz", "zelfmord", False),
        ("zelf", "zelfmord", False),
    ],
)
def test_within_one_edit(first: str, second: str, expected: bool) -> None:
    assert typos.within_one(first, second) is expected
    assert typos.within_one(second, first) is expected


@pytest.mark.parametrize(
    ("text", "lang", "category", "typed"),
    [
        ("ik denk steeds aan zelfmort", "nl", "self_harm", "zelfmort"),
        ("zelmoord gedachten weer heel erg vandaag", "nl", "self_harm", "zelmoord"),
        ("ik denk aan zelf moord de hele tijd", "nl", "self_harm", "zelf moord"),
        ("ik ga mij op hangen in de kelder", "nl", "self_harm", "op hangen"),
        ("ik ga hem vermoorde als ik hem zie", "nl", "violence", "vermoorde"),
        ("sucide is the only way out 4 me now", "en", "self_harm", "sucide"),
        ("ik ga hem af maken vanavond", "nl", "violence", "af maken"),
    ],
)
def test_typos_in_crisis_words_are_found(text: str, lang: str, category: str, typed: str) -> None:
    found = find(text, lang)
    assert category in found.categories, text
    assert found.normal is not None
    from bot.triage.match import matches

    words = matches(text, found.normal, found.spans)
    assert any(typed in word for word in words), words
    assert all(word in text for word in words)


def test_chat_spellings_come_from_the_rules_files() -> None:
    spellings = triage_rules._ruleset("en").typos.spellings
    assert spellings["ded"] == "dead"
    assert spellings["tonite"] == "tonight"
    # "kil" = "kill" needs no entry: double letters already count as single
    assert "kil" not in triage_rules._load("en").spellings
    assert "self_harm" in find("im gona kil my self tonite", "en").categories


def test_correct_words_and_short_words_are_left_alone() -> None:
    table = triage_rules._ruleset("nl").typos
    assert typos.correct(normalise("ik wil dood"), table) is None
    assert typos.correct(normalise("ik ga morgen sporten"), table) is None
    assert typos.correct(normalise("de mos is nat"), table) is None  # short: never by distance


def test_corrected_spans_map_back() -> None:
    table = triage_rules._ruleset("nl").typos
    text = normalise("ik denk aan zelf moord en zelmoord")
    corrected = typos.correct(text, table)
    assert corrected is not None
    assert corrected.text == "ik denk an zelfmord en zelfmord"
    for start, end in [(11, 19), (23, 31), (0, 2)]:
        old_start, old_end = corrected.span(start, end)
        assert (
            text[old_start:old_end].replace(" ", "") == corrected.text[start:end].replace(" ", "")
            or corrected.text[start:end] == "zelfmord"
        )
    assert text[slice(*corrected.span(11, 19))] == "zelf mord"
    assert text[slice(*corrected.span(23, 31))] == "zelmord"


def test_corrections_do_not_hide_a_match() -> None:
    assert "self_harm" in find("ik wil dood, zelf moord", "nl").categories
    assert "self_harm" in find("ik wil dood", "nl").categories


@pytest.mark.parametrize(
    "text",
    [
        "ik ga sprinten op de atletiekbaan",
        "de was op hangen en dan koken",
        "ik heb de fiets gemaakt",
        "ik heb geen zelfmoordgedachten meer, gaat goed",
    ],
)
def test_typo_tolerance_does_not_invent_crises(text: str) -> None:
    found = find(text, "nl")
    assert not {"self_harm", "violence"} & set(found.categories), (text, found.categories)


def test_very_long_text_is_not_corrected() -> None:
    table = triage_rules._ruleset("nl").typos
    assert typos.correct("zelmord " * (typos.MAX_TEXT // 8 + 1), table) is None


def test_remembered_corrections_are_bounded_and_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every word's correction is remembered (words repeat across messages), at most
    SEEN_LIMIT of them; forgetting never changes a correction."""
    table = triage_rules._ruleset("nl").typos
    text = normalise("ik denk aan zelf moord en zelmoord, gisteren vermoorde bijna iemand")
    table.seen.clear()
    table.clean.clear()
    first = typos.correct(text, table)
    assert first is not None
    monkeypatch.setattr(typos, "SEEN_LIMIT", 2)
    table.seen.clear()
    table.clean.clear()
    assert typos.correct(text, table) == first
    assert typos.correct(text, table) == first
    assert len(table.seen) <= 2
    assert len(table.clean) <= 2
