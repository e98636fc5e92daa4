"""The dev split (tests/triage/dev/): labelled messages never trained on, to judge a
retrained model on wording it has not seen, and on which (with the cross-validation) the
flag thresholds are chosen.

It holds the two most recently retired blind sets with their everyday weeks: since round 16
(2026-12-07) X and Y, written by eight writers who saw only the labelling guide, retired when
their errors were studied for round 16. The blind sets retired before them (A to W; V and W
were the dev split of round 15) are training lines in tests/triage/corpus/: a model learns
more from many writers' wording than a threshold does. When X and Y join the corpus in turn,
the next retired pair takes their place here.

Each set keeps the floors it had as a blind set, so a later round must not do worse on it.
The blind sets are another matter (test_blind.py); the dev split is ours and was looked at
while tuning.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot import triage
from bot.triage import train
from bot.triage.model import MODEL_PATH
from tests.triage.figures import (
    WEEK_MAX_ASKED,
    Floors,
    failed_floors,
    retired_set_problems,
    rows,
    week,
)
from tests.triage.figures import figures as blind_figures

DEV = Path(__file__).with_name("dev")
CORPUS = Path(__file__).with_name("corpus")
MIN_DEV_MESSAGES = 1_000
# measured on X, Y and their weeks with the round-15 model, while they were blind
# (2026-12-07): self_harm 0.968 and 0.982, violence 0.971 and 0.978, precision 0.951 and
# 0.960, weeks 4.0 % and 4.0 %. A retrain that gets clearly worse on them fails.
MIN_DEV_RECALL = {"self_harm": 0.96, "violence": 0.96}
MIN_DEV_PRECISION = 0.90
MAX_DEV_EVERYDAY = 0.03
# The floors each retired blind set keeps: its blind run (test_blind.py), on the round-15
# model, rounded down (2026-12-07); for Y one message looser (round 16's lower self-harm
# threshold flags one more of its everyday lines: 2 of 164, precision 0.958; 0.960 blind).
RETIRED_FLOORS = {
    "retired-blind-x.jsonl": Floors(
        self_harm=0.96, violence=0.97, precision=0.95, everyday_flagged=0.01
    ),
    "retired-blind-y.jsonl": Floors(
        self_harm=0.98, violence=0.97, precision=0.95, everyday_flagged=0.02
    ),
}
# Each retired everyday week's ceiling on everyday messages flagged: its blind ceiling (X
# 4.0 %, Y 4.0 % on round 15).
RETIRED_WEEKS = {
    "retired-everyday-week-x.jsonl": 0.04,
    "retired-everyday-week-y.jsonl": 0.04,
}
# word overlap (Jaccard) at or above which a training line counts as a copy of a dev line
TOO_CLOSE = 0.6
# the source of the training lines written after the dev split's sets were studied
STUDIED_DEV = "round-16"


def _texts(directory: Path) -> set[str]:
    return {
        json.loads(line)["text"]
        for path in directory.glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    }


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    result: dict[str, Any] = train.evaluate(DEV, MODEL_PATH)
    return result


def test_dev_split_is_well_formed_and_never_trained_on() -> None:
    rows = train.load_corpus(DEV)
    assert len(rows) >= MIN_DEV_MESSAGES
    assert {row.lang for row in rows} == set(triage.LANGUAGES)
    for path in DEV.glob("*.jsonl"):
        assert path.stem.startswith(("retired-blind-", "retired-everyday-week-")), path
        assert not retired_set_problems(path)
    assert not _texts(DEV) & _texts(CORPUS), "a dev message is in the training corpus"
    # at least a third flagged: the weeks are mostly not
    assert sum(row.flagged for row in rows) / len(rows) >= 0.35
    assert sum(row.everyday for row in rows) >= 200


def _words(text: str) -> frozenset[str]:
    return frozenset(triage.normalise(text).replace("|", " ").split())


def test_no_dev_line_is_in_the_training_corpus_nor_copied_closely() -> None:
    """V and W were studied to write the round-15 training lines: none of their
    lines may be in the corpus word for word, and no line written after studying them may
    share TOO_CLOSE of its words with one of theirs. (Older lines are only held to the first:
    a common everyday line may look like a later set's by chance.)"""
    retired = [str(row["text"]) for path in DEV.glob("retired-*") for row in rows(path)]
    corpus = train.load_corpus(CORPUS)
    texts = {row.text.strip().lower() for row in corpus}
    shared = [text for text in retired if text.strip().lower() in texts]
    assert not shared, shared[:5]
    lines = [row.text for row in corpus if row.source.startswith(STUDIED_DEV)]
    assert len(lines) >= 800
    others = [words for words in map(_words, retired) if len(words) >= 3]
    index = _word_index(others)
    close = [text for text in lines if _shares_too_many_words(_words(text), others, index)]
    assert not close, close[:5]


def _shares_too_many_words(
    words: frozenset[str], others: list[frozenset[str]], index: dict[str, list[int]]
) -> bool:
    """Does `words` share TOO_CLOSE of the words of any of `others` (Jaccard)? Only the
    lines that share a word with it are compared (the test compared every pair, and took 40
    seconds once the corpus had 19,000 lines)."""
    shared: Counter[int] = Counter(number for word in words for number in index.get(word, ()))
    return any(
        count >= TOO_CLOSE * (len(words) + len(others[number]) - count)
        for number, count in shared.items()
    )


def _word_index(others: list[frozenset[str]]) -> dict[str, list[int]]:
    """Which of `others` hold each word."""
    index: dict[str, list[int]] = {}
    for number, other in enumerate(others):
        for word in other:
            index.setdefault(word, []).append(number)
    return index


@pytest.mark.parametrize("name", sorted(RETIRED_FLOORS))
def test_retired_blind_sets_keep_their_floors(name: str) -> None:
    result = blind_figures(rows(DEV / name))
    print(name, result)
    failures = failed_floors(name, result, RETIRED_FLOORS[name])
    assert not failures, failures


@pytest.mark.parametrize("name", sorted(RETIRED_WEEKS))
def test_retired_everyday_weeks_rarely_flag_or_ask(name: str) -> None:
    result = week(rows(DEV / name))
    print(name, result)
    assert result.everyday_flagged <= RETIRED_WEEKS[name]
    assert result.asked <= WEEK_MAX_ASKED


def test_dev_figures_meet_the_floors(figures: dict[str, Any]) -> None:
    both = figures["rules_and_model"]
    for category, floor in MIN_DEV_RECALL.items():
        assert both["recall_by_category"][category] >= floor, both["recall_by_category"]
    assert both["precision"] >= MIN_DEV_PRECISION, both["precision"]
    assert both["everyday_flagged"] <= MAX_DEV_EVERYDAY, both["everyday_flagged"]


def test_the_model_finds_what_the_rules_miss_on_dev(figures: dict[str, Any]) -> None:
    both, rules = figures["rules_and_model"], figures["rules_only"]
    for category in ("self_harm", "violence"):
        gained = both["recall_by_category"][category] - rules["recall_by_category"][category]
        assert gained >= 0.3, (category, gained)


def test_evaluate_command_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--evaluate", str(DEV)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["messages"] >= MIN_DEV_MESSAGES
    assert set(printed) == {"messages", "rules_and_model", "rules_only"}
