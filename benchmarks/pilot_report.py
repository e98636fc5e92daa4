"""Scenario 7: `oprit report` (the pilot report, issue 20) on the national roll-out's
database (SQLite; 50,000 participants, 5 million messages, see `benchmarks.generate`).

Timed as a command, wall time including the ~1 s a Python process needs to start: the
report of the last 365 days in every format (HTML, PDF and 21 CSVs), twice (the second
run finds the database in the page cache). Target: under 60 s. `scale_postgres` times
the same on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import Context
from benchmarks.generate import Generated, national_database
from benchmarks.harness import oprit_cli

OFFICER = 6_100_001
TARGET_S = 60
TIMEOUT_S = 600


def _timed_report(
    env: dict[str, str], cwd: Path, first: str, last: str, run: int
) -> dict[str, Any]:
    out = cwd / f"report-{run}"
    try:
        result, elapsed = oprit_cli(
            env, cwd, "report", "--from", first, "--to", last, "--out", str(out), "--json",
            timeout=TIMEOUT_S,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"seconds": None, "ok": False, "note": f"stopped after {TIMEOUT_S} s"}
    if result.returncode != 0:
        return {"seconds": round(elapsed, 2), "ok": False, "note": result.stderr.strip()[:200]}
    answer = json.loads(result.stdout)
    return {
        "seconds": round(elapsed, 2),
        "ok": True,
        "participants": answer["participants"],
        "files": len(answer["files"]),
        "output_kb": round(sum(Path(f).stat().st_size for f in answer["files"]) / 1024),
    }


def measure(made: Generated) -> dict[str, Any]:
    """The report of the last year, twice."""
    today = datetime.now(UTC).date()
    first, last = (today - timedelta(days=364)).isoformat(), today.isoformat()
    runs = [_timed_report(made.env, made.cwd, first, last, n) for n in (1, 2)]
    return {
        "period": {"from": first, "to": last},
        "first_run": runs[0],
        "second_run": runs[1],
        "target_s": TARGET_S,
    }


async def run(ctx: Context) -> dict[str, Any]:
    """Generate, then time the report of the last year twice."""
    made = await national_database(ctx, "pilot_report", OFFICER)
    await made.database.dispose()
    print(f"  pilot_report: generated in {sum(made.seconds.values()):.0f} s", flush=True)
    return {
        "database": "sqlite",
        "participants": made.shape.participants,
        "messages": made.shape.messages,
        "database_mb": made.database_mb,
        "generation_s": {key: round(value, 1) for key, value in made.seconds.items()},
        **measure(made),
    }
