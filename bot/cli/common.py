"""What every `oprit` command shares: exit codes, one-sentence errors, printing (one JSON
document with --json), argument types, and opening the database."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.runtime import Runtime
from bot.timeparse import parse_duration, parse_local_time

EXIT_USAGE = 2
EXIT_FAILURE = 1

Handler = Callable[[Settings, argparse.Namespace], int]
# Adds one subcommand to a group: (group, name, handler, help) -> its parser.
AddCommand = Callable[[Any, str, Handler, str], argparse.ArgumentParser]


class CliError(Exception):
    """An error the person at the keyboard can fix; printed as one sentence."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"oprit: {message} (see 'oprit {self._subcommand()} --help')\n")

    def _subcommand(self) -> str:
        return " ".join(self.prog.split()[1:]) or "--help"


def group(commands: Any, name: str, text: str) -> Any:
    """A group of subcommands (`oprit staff ...`)."""
    return commands.add_parser(name, help=text).add_subparsers(
        dest=f"{name}_command", required=True, parser_class=Parser
    )


def out(data: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    """Print one JSON document, or the human form."""
    if as_json:
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(human(data))


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as aligned columns ("-" for nothing)."""
    if not rows:
        return "(none)"
    widths = [
        max(len(c), *(len(str(r.get(c) if r.get(c) is not None else "-")) for r in rows))
        for c in columns
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    for row in rows:
        cells = [str(row.get(c) if row.get(c) is not None else "-") for c in columns]
        lines.append("  ".join(v.ljust(w) for v, w in zip(cells, widths, strict=True)))
    return "\n".join(lines)


async def with_database(
    settings: Settings,
    work: Callable[[Runtime, AsyncSession], Awaitable[Any]],
    migration_step: Callable[[int], object] | None = None,
) -> Any:
    """Open the database (migrating it to the newest schema, `migration_step(1)` after
    each migration) and run `work` in one transaction."""
    from bot.app import open_runtime

    runtime = await open_runtime(settings, migration_step=migration_step)
    try:
        async with runtime.sessions() as session, session.begin():
            return await work(runtime, session)
    finally:
        await runtime.engine.dispose()


def duration(value: str, flag: str) -> timedelta:
    """A duration option, or a usage error naming the option."""
    try:
        return parse_duration(value)
    except ValueError as error:
        raise CliError(f"{flag}: {error}", EXIT_USAGE) from None


def local_time(value: str, flag: str, zone: tzinfo) -> datetime:
    """A date-and-time option, or a usage error naming the option."""
    try:
        return parse_local_time(value, zone)
    except ValueError as error:
        raise CliError(f"{flag}: {error}", EXIT_USAGE) from None


def calendar_date(value: str, flag: str) -> date:
    """A YYYY-MM-DD option, or a usage error naming the option."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CliError(
            f"{flag}: {value[:40]!r} is not a date like 2027-01-15", EXIT_USAGE
        ) from None


def text(value: str) -> str:
    """A text argument made safe to store: invalid UTF-8 (which arrives as lone
    surrogates) becomes �, NUL bytes go."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "")


def positive_int(value: str) -> int:
    """A positive whole number."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be a positive number")
    return number
