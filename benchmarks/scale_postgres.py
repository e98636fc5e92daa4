"""Scenario 5b: the national roll-out's database on PostgreSQL (50,000 participants,
5 million messages, loaded with COPY, see `benchmarks.generate`).

One database, measured as scenarios 5, 6 and 7 measure theirs on SQLite: the officer's
commands and `oprit export` (`benchmarks.scale`), the dashboard pages
(`benchmarks.dashboard`), `oprit report` of a year (`benchmarks.pilot_report`), and last
`oprit purge`, since it deletes what the others read. The throwaway server runs with
fsync off and PostgreSQL's default memory settings (shared_buffers 128 MB).
"""

from __future__ import annotations

from typing import Any

from benchmarks import dashboard, pilot_report, scale
from benchmarks.common import Context
from benchmarks.generate import national_database
from benchmarks.seed import quiet


async def run(ctx: Context) -> dict[str, Any]:
    """Generate on PostgreSQL, then the officer's commands, export, dashboard, report, purge."""
    made = await national_database(ctx, "scale_postgres", scale.OFFICER, kind="postgresql")
    await quiet(made.database.url)
    sizes = await scale.table_sizes(made.database)
    await made.database.dispose()
    print(f"  scale_postgres: generated {sizes} in {sum(made.seconds.values()):.0f} s", flush=True)
    commands = await scale.measure(ctx, made)
    pages = await dashboard.measure(ctx, made)
    report = pilot_report.measure(made)
    return {
        "database": "postgresql",
        "participants": made.shape.participants,
        "messages": made.shape.messages,
        "rows": sizes,
        "database_mb": made.database_mb,
        "generation_s": {key: round(value, 1) for key, value in made.seconds.items()},
        "scale": {**commands, "purge": await scale.purge(made)},
        "dashboard": pages,
        "pilot_report": report,
    }
