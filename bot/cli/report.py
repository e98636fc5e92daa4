"""`oprit report`: the pilot report for a period as HTML, PDF and CSV files (issue 20)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import report
from bot.cli.common import AddCommand, CliError, out, with_database
from bot.cli.progress import progress
from bot.config import Settings
from bot.i18n import available_languages
from bot.runtime import Runtime


def _day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CliError(f"{flag}: {value[:40]!r} is not a date like 2026-01-31") from None


def _formats(value: str) -> list[str]:
    wanted = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [part for part in wanted if part not in report.FORMATS]
    if unknown or not wanted:
        raise CliError(
            f"--format: {', '.join(unknown)[:60] or 'nothing'} is not one of html, pdf, csv"
        )
    return [name for name in report.FORMATS if name in wanted]


def make_report(settings: Settings, args: argparse.Namespace) -> int:
    """Read the figures, write the files, audit it; print what was written."""
    first, last = _day(args.first, "--from"), _day(args.last, "--to")
    if last < first:
        raise CliError(f"--from {first} is after --to {last}")
    if (last - first).days >= report.MAX_DAYS:
        raise CliError(f"--from and --to: at most {report.MAX_DAYS // 366} years apart")
    formats = _formats(args.format)
    language = settings.default_language if args.language is None else args.language
    if language not in available_languages():
        raise CliError(
            f"--language: {language[:20]!r} is not one of {', '.join(available_languages())}"
        )
    directory = Path(args.out)
    if directory.exists() and not directory.is_dir():
        raise CliError(f"--out: {args.out[:80]} is a file, not a directory")

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        with progress(args.json, report.STEPS + report.WRITE_STEPS, "steps", "report") as done:
            made = await report.make(
                session,
                first,
                last,
                zone=settings.tz,
                escalation=settings.escalation_after,
                now=runtime.clock.now(),
                actor="cli",
                language=language,
                formats=formats,
                step=done,
            )
            files = report.write(made, directory, formats, done)
        return {
            "files": report.output_files(files),
            "participants": made.participants,
            "period": {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "timezone": str(settings.tz),
            },
        }

    data = asyncio.run(with_database(settings, work))
    out(
        data,
        args.json,
        lambda d: f"report of {d['participants']} participants: " + ", ".join(d["files"]),
    )
    return 0


def register(commands: Any, command: AddCommand) -> None:
    """`oprit report`."""
    made = command(commands, "report", make_report, "the pilot report for a period")
    made.add_argument("--from", dest="first", required=True, metavar="DATE", help="first day")
    made.add_argument("--to", dest="last", required=True, metavar="DATE", help="last day")
    made.add_argument("--out", required=True, metavar="DIR", help="directory for the files")
    made.add_argument("--format", default="html,pdf,csv", help="comma list of html, pdf, csv")
    made.add_argument(
        "--language",
        metavar="LANG",
        help="the report's language (default: OPRIT_DEFAULT_LANGUAGE)",
    )
