"""Precision and recall of the triage rules on the labelled messages in cases.jsonl.

Missing a crisis is the worst failure, so recall on self_harm and violence has a hard floor;
a flood of false alarms makes the officer stop reading, so overall precision has one too.
Run with `pytest tests/triage/test_evaluation.py -s` to see the table.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.triage import CATEGORIES, SEVERITIES, classify, severity_rank

CASES = Path(__file__).with_name("cases.jsonl")
MIN_CASES = 400
MIN_CASES_PER_LANGUAGE = {"ar": 15, "tr": 15, "pl": 15}
MIN_RECALL = {"self_harm": 0.95, "violence": 0.95}
MIN_OVERALL_PRECISION = 0.85


@dataclass(frozen=True)
class Case:
    text: str
    lang: str
    categories: frozenset[str]
    severity: str | None


@dataclass
class Score:
    """Counts for one category (or for flagged/not flagged overall)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: bool, predicted: bool) -> None:
        self.tp += expected and predicted
        self.fp += predicted and not expected
        self.fn += expected and not predicted

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def row(self, name: str) -> str:
        support = self.tp + self.fn
        return (
            f"{name:<12} {self.precision:>9.3f} {self.recall:>7.3f} "
            f"{support:>8} {self.tp:>5} {self.fp:>5} {self.fn:>5}"
        )


@dataclass
class Report:
    cases: int = 0
    per_language: Counter[str] = field(default_factory=Counter)
    categories: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    overall_by_language: dict[str, Score] = field(default_factory=dict)
    severity_exact: int = 0
    severity_under: int = 0
    severity_labelled: int = 0

    def table(self) -> str:
        header = f"{'category':<12} {'precision':>9} {'recall':>7} {'support':>8} "
        header += f"{'tp':>5} {'fp':>5} {'fn':>5}"
        lines = [header]
        lines += [self.categories[name].row(name) for name in sorted(self.categories)]
        lines.append(self.overall.row("overall"))
        lines.append("")
        lines.append("flagged vs not flagged, per language:")
        for lang in sorted(self.overall_by_language):
            lines.append(self.overall_by_language[lang].row(f"  {lang}"))
        lines.append("")
        lines.append(
            f"severity on flagged cases with a label: {self.severity_exact}/"
            f"{self.severity_labelled} exact, {self.severity_under} lower than labelled"
        )
        lines.append(f"cases: {self.cases} ({dict(sorted(self.per_language.items()))})")
        return "\n".join(lines)


def load_cases() -> list[Case]:
    cases = []
    for number, line in enumerate(CASES.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        categories = frozenset(row["categories"])
        assert categories <= set(CATEGORIES), f"line {number}: unknown category {categories}"
        severity = row.get("severity")
        assert severity is None or severity in SEVERITIES[1:], f"line {number}: bad severity"
        assert severity is None or categories, f"line {number}: severity without category"
        cases.append(Case(row["text"], row["lang"], categories, severity))
    return cases


def evaluate(cases: list[Case]) -> Report:
    report = Report(cases=len(cases))
    report.categories = {name: Score() for name in CATEGORIES}
    for case in cases:
        verdict = classify(case.text, case.lang)
        report.per_language[case.lang] += 1
        for name, score in report.categories.items():
            score.add(name in case.categories, name in verdict.categories)
        report.overall.add(bool(case.categories), verdict.flagged)
        report.overall_by_language.setdefault(case.lang, Score()).add(
            bool(case.categories), verdict.flagged
        )
        if case.severity is not None and verdict.flagged:
            report.severity_labelled += 1
            report.severity_exact += verdict.severity == case.severity
            report.severity_under += severity_rank(verdict.severity) < severity_rank(case.severity)
    return report


@pytest.fixture(scope="module")
def report() -> Report:
    result = evaluate(load_cases())
    print("\n" + result.table())
    return result


def test_enough_cases(report: Report) -> None:
    assert report.cases >= MIN_CASES, report.table()
    for lang, minimum in MIN_CASES_PER_LANGUAGE.items():
        assert report.per_language[lang] >= minimum, f"too few {lang} cases\n{report.table()}"


@pytest.mark.parametrize("category", sorted(MIN_RECALL))
def test_crisis_recall(report: Report, category: str) -> None:
    recall = report.categories[category].recall
    assert recall >= MIN_RECALL[category], f"{category} recall {recall:.3f}\n{report.table()}"


def test_overall_precision(report: Report) -> None:
    precision = report.overall.precision
    assert precision >= MIN_OVERALL_PRECISION, f"precision {precision:.3f}\n{report.table()}"
