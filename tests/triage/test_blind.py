"""Triage on the blind sets: messages written independently of the rules, the model and the
training corpus, by writers who never saw any of them, and never used to tune anything.

Every blind file in tests/triage/blind/ (except the everyday week) needs an entry in
FLOORS: the figures measured when the set was first run (README, "Triage"), rounded down,
so a change that makes triage worse on wording nobody tuned for fails here. A file without
floors fails the test instead of being skipped. Whoever looks at the errors in a blind set
must retire it (move it to tests/triage/dev/retired-*.jsonl, as A and B were on
2026-12-06, C to Y for rounds 5 to 16) and have a new one written before reporting a new
figure.
Run with `-s` to see the figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.triage.figures import (
    WEEK_MAX_ASKED,
    WEEK_MAX_FLAGGED,
    Floors,
    failed_floors,
    figures,
    rows,
    week,
)

BLIND = Path(__file__).with_name("blind")

# Blind sets A to Y were retired once their errors were studied (A and B for round 4 on
# 2026-12-06, C to K for rounds 5 to 11, L and M for round 12, N and O for round 13, T and U
# for round 14, V and W for round 15, X and Y for round 16 on 2026-12-07): the two newest
# retired sets are the dev split (test_dev.py, with their floors), the older ones training
# lines. Six sets here were written on 2026-12-07 by writers who saw only the labelling
# guide, four per set, each language on its own (README, "Triage"): P and Q before the
# round-13 model was trained, R and S before round 13b, Z and AA while round 16 was being
# built (before its training lines were written). Nobody has looked at any of their errors.
# The aggregates of P to S were seen while rounds 13b to 16 were chosen (round 16's crisis
# thresholds were picked on them), so they are the selection sets; Z and AA were run once,
# on the shipped round-16 model. Each floor is the shipped model's figure, rounded down
# (the everyday share rounded up); P to S keep their round-15 floors but for violence on R
# and S, one threat each lower with round 16 (131 of 136 and 129 of 136), the price of its
# thresholds (on P to S two more self-harm messages and fewer week false alarms).
FLOORS: dict[str, Floors] = {
    "blind-p.jsonl": Floors(self_harm=0.97, violence=0.99, precision=0.92, everyday_flagged=0.02),
    "blind-q.jsonl": Floors(self_harm=0.95, violence=0.97, precision=0.92, everyday_flagged=0.01),
    "blind-r.jsonl": Floors(self_harm=0.94, violence=0.96, precision=0.90, everyday_flagged=0.02),
    "blind-s.jsonl": Floors(self_harm=0.95, violence=0.94, precision=0.92, everyday_flagged=0.02),
    "blind-z.jsonl": Floors(self_harm=0.96, violence=0.95, precision=0.91, everyday_flagged=0.01),
    "blind-aa.jsonl": Floors(self_harm=0.91, violence=0.95, precision=0.93, everyday_flagged=0.01),
}
# Each everyday week's share of unflagged messages flagged on the shipped round-16 model: at
# most WEEK_MAX_FLAGGED (4 %) where that holds (P 2.1 %, R 2.8 %, S 2.6 %, Z 1.3 %, the older
# week 1.4 %); above it the measured share rounded up (Q 4.5 %, AA 4.3 %), over the 3 % target.
WEEK_CEILINGS: dict[str, float] = {
    "everyday-week.jsonl": WEEK_MAX_FLAGGED,
    "everyday-week-p.jsonl": WEEK_MAX_FLAGGED,
    "everyday-week-q.jsonl": 0.045,
    "everyday-week-r.jsonl": WEEK_MAX_FLAGGED,
    "everyday-week-s.jsonl": WEEK_MAX_FLAGGED,
    "everyday-week-z.jsonl": WEEK_MAX_FLAGGED,
    "everyday-week-aa.jsonl": 0.043,
}
WEEKS = tuple(WEEK_CEILINGS)


def _rows(name: str) -> list[dict[str, object]]:
    return rows(BLIND / name)


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
        result = figures(_rows(name))
        print(name, result)
        failures += failed_floors(name, result, FLOORS[name])
    assert not failures, failures


@pytest.mark.parametrize("name", WEEKS)
def test_a_week_of_everyday_messages_rarely_flags_or_asks(name: str) -> None:
    """A week of one caseload's messages as they come (a few real problems among them): how
    many everyday ones are pushed to the officer, and how often the bot asks directly."""
    result = week(_rows(name))
    print(name, result)
    assert result.everyday_flagged <= WEEK_CEILINGS[name]
    assert result.asked <= WEEK_MAX_ASKED


def _texts(paths: list[Path]) -> set[str]:
    return {
        json.loads(line)["text"].strip().lower()
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }


def test_the_blind_sets_are_not_in_the_training_corpus_nor_the_dev_split() -> None:
    corpus, dev = BLIND.parent / "corpus", BLIND.parent / "dev"
    written_by_us = _texts([p for p in corpus.glob("*.jsonl") if not p.stem.startswith("retired-")])
    # the retired sets (trained on or the dev split) were written by other independent
    # writers: short greetings are shared with them as with anyone, but no message about a
    # problem
    everything = written_by_us | _texts([*corpus.glob("retired-*.jsonl"), *dev.glob("*.jsonl")])
    for name in (*_blind_sets(), *WEEKS):
        labelled = _rows(name)
        shared = [row for row in labelled if str(row["text"]).strip().lower() in everything]
        # Short everyday lines ("hoi", "ok, tot morgen") are written by anyone; no message
        # about a problem may be shared.
        assert not [row for row in shared if row["flagged"]], name
        ours = [row for row in labelled if str(row["text"]).strip().lower() in written_by_us]
        assert len(ours) <= 0.08 * len(labelled), name
