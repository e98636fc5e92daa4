"""The pilot report (issue 20): the figures the ministry funds the pilot for, pseudonymous
and protected against singling anyone out, as HTML, PDF and CSV.

`make` reads the figures (bot.report.figures), `write` puts them in files
(bot.report.write); the report is audited as an action on everyone's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.report.figures import STEPS, Step, build
from bot.report.model import Report
from bot.report.write import FORMATS, WRITE_STEPS, ReportError, write
from db import audit

# The pilot runs a year; five leaves room for a longer programme, and keeps a mistyped
# year (0026 for 2026) from drawing ten thousand weeks.
MAX_DAYS = 5 * 366

__all__ = ["FORMATS", "MAX_DAYS", "STEPS", "WRITE_STEPS", "Report", "ReportError", "make", "write"]


async def make(
    session: AsyncSession,
    first: date,
    last: date,
    *,
    zone: tzinfo,
    escalation: timedelta,
    now: datetime,
    actor: str,
    language: str,
    actor_telegram_id: int | None = None,
    formats: Sequence[str] = FORMATS,
    step: Step = lambda done: None,
) -> Report:
    """The report for a period in `language`, audited (who, which period, which formats)."""
    if last < first:
        raise ReportError(f"the period ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_DAYS:
        raise ReportError(f"a period of at most {MAX_DAYS // 366} years, please")
    report = await build(
        session,
        first,
        last,
        zone=zone,
        escalation=escalation,
        now=now,
        language=language,
        step=step,
    )
    audit.add(
        session,
        "report",
        actor=actor,
        actor_telegram_id=actor_telegram_id,
        detail={"from": first.isoformat(), "to": last.isoformat(), "formats": list(formats)},
        at=now,
    )
    return report


def output_files(files: Sequence[Path]) -> list[str]:
    """The written files as strings for a JSON answer."""
    return [str(path) for path in files]
