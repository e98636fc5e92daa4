"""The benchmark report renders the committed results (a broken report loses a run)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import report

HERE = Path(__file__).resolve().parents[2] / "benchmarks"


def test_committed_results_render_with_targets_and_the_baseline() -> None:
    document = json.loads((HERE / "results.json").read_text())
    baseline = json.loads((HERE / "before.json").read_text())
    text = report.markdown(document, baseline)
    assert "| what | target | before | measured | met |" in text
    for row in (
        "Inbound, SQLite, 100 registered: Oprit/echo",
        "Alert latency p99, broadcast + 100 msg/s (ms)",
        "Broadcast 10,000, with 429s: duplicates",
        "5,000 reminders: duplicates",
        "Bot peak RSS, any scenario (MB)",
    ):
        assert row in text
    assert text == (HERE / "RESULTS.md").read_text()  # RESULTS.md is this rendering


def test_a_scenario_that_failed_is_reported_not_hidden() -> None:
    document = {"machine": {}, "results": {"alerts": {"error": "TimeoutError: no alert"}}}
    text = report.markdown(document)
    assert "TimeoutError: no alert" in text
