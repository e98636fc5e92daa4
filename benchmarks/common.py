"""What scenarios share: the run's context, typical texts, and senders."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from benchmarks.harness import Databases, TimedFakeApi
from bot.triage import classify

CASES = Path(__file__).resolve().parent.parent / "tests" / "triage" / "cases.jsonl"
CRITICAL_TEXT = "ik wil dood"


@dataclass
class Context:
    """One benchmark run: the local Telegram, databases, a scratch dir, and the results."""

    api: TimedFakeApi
    databases: Databases
    root: Path
    profile_dir: Path | None = None
    quick: bool = False
    results: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def profile_path(self, name: str) -> Path | None:
        """Where py-spy writes the profile of one bot process (None: not profiling)."""
        return None if self.profile_dir is None else self.profile_dir / f"{name}.txt"

    def scale(self, full: int, quick: int) -> int:
        """A count, smaller in --quick mode (a smoke run of the harness itself)."""
        return quick if self.quick else full


def typical_texts(count: int) -> list[str]:
    """Everyday Dutch messages (labelled unflagged in the triage cases, checked again)."""
    rows = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]
    pool = [
        row["text"]
        for row in rows
        if row["lang"] == "nl"
        and not row.get("severity")
        and not classify(row["text"], "nl").flagged
        and not row["text"].startswith("/")
    ]
    return list(islice(cycle(pool), count))


def spread(ids: list[int], count: int) -> list[int]:
    """`count` ids spread evenly over a list (all of them when there are fewer)."""
    if count >= len(ids):
        return list(ids)
    step = len(ids) / count
    return [ids[int(index * step)] for index in range(count)]
