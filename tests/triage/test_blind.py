"""Triage on the blind sets: messages written independently of the rules, the model and the
training corpus, by writers who never saw any of them, and never used to tune anything.

Every blind file in tests/triage/blind/ (except the everyday week) needs an entry in
FLOORS: the figures measured when the set was first run (README, "Triage"), rounded down,
so a change that makes triage worse on wording nobody tuned for fails here. A file without
floors fails the test instead of being skipped. Whoever looks at the errors in a blind set
must retire it (move it to tests/triage/dev/retired-*.jsonl, as A and B were on
2026-12-06) and have a new one written before reporting a new figure. Run with `-s` to see
the figures.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.triage import classify, severity_rank

BLIND = Path(__file__).with_name("blind")
CRISIS = ("self_harm", "violence")
HIGH = severity_rank("high")


@dataclass(frozen=True)
class Floors:
    self_harm: float
    violence: float
    precision: float
    everyday_flagged: float


# Blind sets A and B were retired into the dev split on 2026-12-06 (their errors were
# studied). Blind set C was written that day by a writer who saw only the labelling guide;
# 26 of its lines (and 28 of its week) were word for word in the corpus or the dev split and
# were taken out before the first run. Its floors are the figures of that first run on the
# round-4 model, rounded down.
FLOORS: dict[str, Floors] = {
    "blind-c.jsonl": Floors(self_harm=0.87, violence=0.92, precision=0.89, everyday_flagged=0.04),
}
WEEKS = ("everyday-week.jsonl", "everyday-week-c.jsonl")
# A typical week of everyday messages (greetings, plans, small talk, no crisis).
WEEK_MAX_FLAGGED = 0.04
WEEK_MAX_ASKED = 0.01


@dataclass(frozen=True)
class Figures:
    messages: int
    crisis_recall: dict[str, float]
    precision: float
    everyday_flagged: float


def _rows(name: str) -> list[dict[str, object]]:
    with (BLIND / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _figures(rows: list[dict[str, object]]) -> Figures:
    found: Counter[str] = Counter()
    wanted: Counter[str] = Counter()
    flags = true_flags = everyday = everyday_flagged = 0
    for row in rows:
        verdict = classify(str(row["text"]), str(row["lang"]))
        expected = set(row.get("categories") or [])  # type: ignore[call-overload]
        flags += verdict.flagged
        true_flags += verdict.flagged and bool(row["flagged"])
        if str(row.get("family", "")).startswith("everyday"):
            everyday += 1
            everyday_flagged += verdict.flagged
        for category in CRISIS:
            if category in expected and row.get("severity") in ("high", "critical"):
                wanted[category] += 1
                found[category] += (
                    category in verdict.categories and severity_rank(verdict.severity) >= HIGH
                )
    return Figures(
        messages=len(rows),
        crisis_recall={category: found[category] / wanted[category] for category in CRISIS},
        precision=true_flags / flags,
        everyday_flagged=everyday_flagged / everyday,
    )


def _blind_sets() -> list[str]:
    return sorted(path.name for path in BLIND.glob("*.jsonl") if path.name not in WEEKS)


def test_every_blind_set_has_floors() -> None:
    missing = [name for name in _blind_sets() if name not in FLOORS]
    assert not missing, f"blind sets without an entry in FLOORS (test_blind.py): {missing}"
    gone = [name for name in FLOORS if not (BLIND / name).exists()]
    assert not gone, f"FLOORS names blind sets that are not in {BLIND}: {gone}"


def test_blind_figures_stay_at_or_above_what_was_measured() -> None:
    """One test over every blind file (none is skipped): a file without floors fails."""
    failures = []
    for name in _blind_sets():
        assert name in FLOORS, f"{name}: add its floors to FLOORS in tests/triage/test_blind.py"
        figures = _figures(_rows(name))
        floors = FLOORS[name]
        print(name, figures)
        checks = {
            "messages >= 400": figures.messages >= 400,
            "self_harm recall": figures.crisis_recall["self_harm"] >= floors.self_harm,
            "violence recall": figures.crisis_recall["violence"] >= floors.violence,
            "precision": figures.precision >= floors.precision,
            "everyday flagged": figures.everyday_flagged <= floors.everyday_flagged,
        }
        failures += [f"{name}: {check} ({figures})" for check, ok in checks.items() if not ok]
    assert not failures, failures


@pytest.mark.parametrize("week", WEEKS)
def test_a_week_of_everyday_messages_rarely_flags_or_asks(week: str) -> None:
    """A week of one caseload's messages as they come (a few real problems among them): how
    many everyday ones are pushed to the officer, and how often the bot asks directly."""
    rows = _rows(week)
    verdicts = [classify(str(row["text"]), str(row["lang"])) for row in rows]
    everyday = [verdict for row, verdict in zip(rows, verdicts, strict=True) if not row["flagged"]]
    flagged = sum(verdict.flagged for verdict in everyday) / len(everyday)
    asked = sum(verdict.ask for verdict in verdicts) / len(rows)
    print(f"{week}: {len(rows)} messages, everyday flagged {flagged:.3f}, asked {asked:.4f}")
    assert flagged <= WEEK_MAX_FLAGGED
    assert asked <= WEEK_MAX_ASKED


def test_the_blind_sets_are_not_in_the_training_corpus_nor_the_dev_split() -> None:
    corpus = {
        json.loads(line)["text"].strip().lower()
        for directory in ("corpus", "dev")
        for path in (BLIND.parent / directory).glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    for name in (*_blind_sets(), *WEEKS):
        rows = _rows(name)
        shared = [row for row in rows if str(row["text"]).strip().lower() in corpus]
        # Short everyday lines ("hoi", "ok, tot morgen") are written by anyone; no message
        # about a problem may be shared.
        assert not [row for row in shared if row["flagged"]], name
        assert len(shared) <= 0.08 * len(rows), name
