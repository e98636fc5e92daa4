"""Figures of `classify` on a labelled file, shared by the blind tests and the dev tests so a
blind set keeps being judged the same way after it is retired into the dev split.

Crisis recall counts a message labelled high or critical for self_harm or violence only when
it is flagged with that category at high or critical.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.triage import LANGUAGES, classify, severity_rank

CRISIS = ("self_harm", "violence")
HIGH = severity_rank("high")
# A typical week of everyday messages (greetings, plans, small talk, a few real problems).
WEEK_MAX_FLAGGED = 0.04
WEEK_MAX_ASKED = 0.01


@dataclass(frozen=True)
class Floors:
    self_harm: float
    violence: float
    precision: float
    everyday_flagged: float


@dataclass(frozen=True)
class Figures:
    messages: int
    crisis_recall: dict[str, float]
    precision: float
    everyday_flagged: float


@dataclass(frozen=True)
class Week:
    messages: int
    everyday_flagged: float
    asked: float


def rows(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def retired_set_problems(path: Path) -> list[str]:
    """What is wrong with a retired blind set or week (`retired-<set>.jsonl`, in the dev split
    or the corpus): it must hold every language, and every line the source of its set."""
    labelled = rows(path)
    name = path.stem.removeprefix("retired-")
    problems = []
    if {row["lang"] for row in labelled} != set(LANGUAGES):
        problems.append(f"{path.name}: not every language")
    problems += [
        f"{path.name}: source {row['source']!r}"
        for row in labelled
        if not str(row["source"]).startswith(f"{name}:")
    ]
    return problems


def figures(labelled: list[dict[str, object]]) -> Figures:
    found: Counter[str] = Counter()
    wanted: Counter[str] = Counter()
    flags = true_flags = everyday = everyday_flagged = 0
    for row in labelled:
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
        messages=len(labelled),
        crisis_recall={category: found[category] / wanted[category] for category in CRISIS},
        precision=true_flags / flags,
        everyday_flagged=everyday_flagged / everyday,
    )


def failed_floors(name: str, result: Figures, floors: Floors) -> list[str]:
    """What in `result` falls under `floors` (empty when all is well)."""
    checks = {
        "messages >= 400": result.messages >= 400,
        "self_harm recall": result.crisis_recall["self_harm"] >= floors.self_harm,
        "violence recall": result.crisis_recall["violence"] >= floors.violence,
        "precision": result.precision >= floors.precision,
        "everyday flagged": result.everyday_flagged <= floors.everyday_flagged,
    }
    return [f"{name}: {check} ({result})" for check, ok in checks.items() if not ok]


def week(labelled: list[dict[str, object]]) -> Week:
    """A week of one caseload's messages as they come: how many everyday ones are pushed to
    the officer, and how often the bot asks directly."""
    verdicts = [classify(str(row["text"]), str(row["lang"])) for row in labelled]
    everyday = [v for row, v in zip(labelled, verdicts, strict=True) if not row["flagged"]]
    return Week(
        messages=len(labelled),
        everyday_flagged=sum(v.flagged for v in everyday) / len(everyday),
        asked=sum(v.ask for v in verdicts) / len(labelled),
    )
