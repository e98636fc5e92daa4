"""`python -m benchmarks` (`make bench`): run every scenario, write RESULTS.md and results.json.

Options: `--only NAME ...` runs some scenarios; `--quick` shrinks every count (a smoke run
of the harness, not a measurement); `--profile DIR` samples each bot process with py-spy
during the measured part; `--baseline FILE` puts an earlier results.json beside the new
figures (BENCH_BOT_SOURCE=DIR measures the bot of another checkout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks import (
    alerts,
    broadcast,
    dashboard,
    forum,
    pilot_report,
    reminders,
    report,
    scale,
    scale_postgres,
    throughput,
    webhook,
)
from benchmarks.common import Context
from benchmarks.harness import Databases, TimedFakeApi

HERE = Path(__file__).resolve().parent
SCENARIOS: dict[str, Callable[[Context], Awaitable[dict[str, Any]]]] = {
    "throughput": throughput.run,
    "alerts": alerts.run,
    "broadcast": broadcast.run,
    "reminders": reminders.run,
    "scale": scale.run,
    "scale_postgres": scale_postgres.run,
    "dashboard": dashboard.run,
    "forum": forum.run,
    "webhook": webhook.run,
    "pilot_report": pilot_report.run,
}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0].split()
        memory = int(first[1]) // 1024
    return {
        "load_at_start": " ".join(f"{load:.2f}" for load in os.getloadavg()),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_mb": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


async def main_async(args: argparse.Namespace) -> int:
    """Run the chosen scenarios one after another, each in its own databases."""
    root = Path(tempfile.mkdtemp(prefix="oprit-bench-"))
    api = TimedFakeApi().start()
    databases = Databases(root)
    ctx = Context(
        api=api, databases=databases, root=root, profile_dir=args.profile, quick=args.quick
    )
    started = time.monotonic()
    facts = machine()
    failed = 0
    try:
        for name in args.only or list(SCENARIOS):
            print(f"== {name}", flush=True)
            begun = time.monotonic()
            try:
                ctx.results[name] = await SCENARIOS[name](ctx)
            except Exception as error:
                failed += 1
                traceback.print_exc()
                ctx.results[name] = {"error": f"{type(error).__name__}: {error}"}
            ctx.results[name]["duration_s"] = round(time.monotonic() - begun, 1)
            print(f"   {name} took {ctx.results[name]['duration_s']} s", flush=True)
            api.forget_history()
    finally:
        api.stop()
        databases.close()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    document = {
        "label": args.label,
        "machine": facts,
        "quick": args.quick,
        "total_seconds": round(time.monotonic() - started, 1),
        "notes": ctx.notes,
        "results": ctx.results,
    }
    output = args.output
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    (output / "RESULTS.md").write_text(report.markdown(document, baseline))
    print(f"wrote {output / 'RESULTS.md'} and results.json in {document['total_seconds']} s")
    return 1 if failed else 0


def main() -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), help="scenarios to run")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--profile", type=Path, help="write py-spy profiles to this directory")
    parser.add_argument("--output", type=Path, default=HERE, help="where RESULTS.md goes")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--baseline", type=Path, help="an earlier results.json to compare with")
    parser.add_argument("--label", default="", help="what this run measured (for --baseline)")
    parser.add_argument(
        "--from-json", type=Path, help="only write RESULTS.md again from this results.json"
    )
    args = parser.parse_args()
    if args.from_json:
        document = json.loads(args.from_json.read_text())
        baseline = json.loads(args.baseline.read_text()) if args.baseline else None
        (args.output / "RESULTS.md").write_text(report.markdown(document, baseline))
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
