"""`oprit export`, `erase`, `purge`, `audit` and `triage`: the record kept about people,
and the classifier that reads their messages."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.telegram.parse import sender_of
from bot.cli.common import (
    EXIT_USAGE,
    AddCommand,
    CliError,
    out,
    positive_int,
    table,
    with_database,
)
from bot.cli.progress import progress
from bot.config import Settings
from bot.runtime import Runtime
from bot.services import admin, export, privacy
from bot.timeparse import parse_duration, parse_local_time
from db import audit, retention
from db.personal_data import exported


def export_participant(settings: Settings, args: argparse.Namespace) -> int:
    """Everything stored about one participant, decrypted (audited)."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        with progress(args.json, len(exported()), "tables", "exporting") as done:
            document = await export.export_participant(session, args.participant, done)
        if document is None:
            raise CliError(f"no participant with id {args.participant}")
        audit.add(
            session, "export", actor="cli", participant_id=args.participant, at=runtime.clock.now()
        )
        return document

    document = asyncio.run(with_database(settings, work))
    print(json.dumps(document, ensure_ascii=False, indent=None if args.json else 2))
    return 0


def erase(settings: Settings, args: argparse.Namespace) -> int:
    """Delete everything about one participant (AVG/GDPR)."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        counts = await privacy.erase(runtime.tx(session), args.participant, "cli", sender_of)
        return {"participant": args.participant, "deleted": counts}

    data = asyncio.run(with_database(settings, work))
    out(
        data,
        args.json,
        lambda d: f"participant {d['participant']} erased ({sum(d['deleted'].values())} rows)",
    )
    return 0


def purge(settings: Settings, args: argparse.Namespace) -> int:
    """Delete conversation older than OPRIT_RETENTION_DAYS."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        with progress(args.json, retention.purged_tables(), "tables", "purging") as done:
            counts = await privacy.purge(
                session, runtime.clock.now(), settings.retention_days, done
            )
        return {"retention_days": settings.retention_days, "deleted": counts}

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"purged {sum(d['deleted'].values())} rows")
    return 0


def _since(value: str, settings: Settings) -> datetime:
    try:
        return datetime.now(UTC) - parse_duration(value)
    except ValueError:
        pass
    try:
        return parse_local_time(value, settings.tz)
    except ValueError:
        raise CliError(
            "--since: give a duration like 7d or a date like 2026-12-01", EXIT_USAGE
        ) from None


def audit_log(settings: Settings, args: argparse.Namespace) -> int:
    """Print the audit log."""
    since = _since(args.since, settings) if args.since else None

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        return await admin.audit_log(session, since)

    rows = asyncio.run(with_database(settings, work))
    columns = ("at", "action", "actor", "actor_telegram_id", "participant_id")
    out(rows, args.json, lambda r: table(r, columns))
    return 0


def classify(settings: Settings, args: argparse.Namespace) -> int:
    """JSON lines in, one verdict per line out (a bad line gets an error line)."""
    from bot import triage  # only here: its rules take a while to load

    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError
        except ValueError:
            print(json.dumps({"error": f'line {number} is not {{"text": ..., "lang": ...}}'}))
            continue
        given = item.get("lang")
        lang = given if isinstance(given, str) else settings.default_language
        print(json.dumps(triage.classify(item["text"], lang).to_dict(), ensure_ascii=False))
    return 0


def register(commands: Any, command: AddCommand) -> None:
    """`oprit export|erase|purge|audit|triage`."""
    exporting = command(
        commands, "export", export_participant, "everything stored about a participant"
    )
    exporting.add_argument("--participant", type=positive_int, required=True, metavar="ID")
    erasing = command(commands, "erase", erase, "delete everything about a participant")
    erasing.add_argument("--participant", type=positive_int, required=True, metavar="ID")
    command(commands, "purge", purge, "delete conversation older than the retention period")
    auditing = command(commands, "audit", audit_log, "print the audit log")
    auditing.add_argument("--since", help="a duration like 7d, or a date like 2026-12-01")
    command(commands, "triage", classify, "classify JSON lines from stdin")
