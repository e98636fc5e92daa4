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


def test_the_national_database_on_both_databases_is_shown_side_by_side() -> None:
    committed = json.loads((HERE / "results.json").read_text())["results"]
    purge = {"seconds": 9.0, "ok": True, "messages_before": 5_000_010}
    purge |= {"older_than_retention": 400_000, "messages_after": 4_600_010, "older_left": 0}
    postgres = {
        "participants": 50_000,
        "messages": 5_000_000,
        "rows": {"messages": 5_000_000},
        "database_mb": 2_000,
        "generation_s": {"messages": 100.0, "analyze": 20.0},
        "scale": {**committed["scale"], "purge": purge},
        "dashboard": committed["dashboard"],
        "pilot_report": {
            "period": {"from": "2025-12-07", "to": "2026-12-06"},
            "first_run": {"seconds": 61.0, "ok": True, "files": 21, "output_kb": 900},
            "second_run": {"seconds": None, "ok": False, "note": "stopped after 600 s"},
        },
    }
    document = {"machine": {}, "results": {**committed, "scale_postgres": postgres}}
    text = report.markdown(document)
    assert "### 5. Database scale (SQLite, PostgreSQL)" in text
    assert "| officer command | n | SQLite p50 ms | SQLite max ms | PostgreSQL p50 ms |" in text
    assert "PostgreSQL: `oprit purge` deleted 400,000 of 5,000,010 messages" in text
    assert "| 5 M messages, PostgreSQL: messages past retention left by `oprit purge` | 0 |" in text
    assert (
        "| 5 M messages, PostgreSQL: `oprit report` of a year, every format (s) | ≤ 60 | 61 |"
        in (text)
    )
    assert "failed: stopped after 600 s" in text
    assert "Dashboard, 5 M messages, PostgreSQL: participant page, 20,000 messages" in text
    assert "Not measured" not in text
