"""Alerts: something the officer must see, with the reason and the words that matched.

This module creates the rows and queues their delivery (`bot.officer_alerts`), so every
producer of alerts makes one call and cannot forget to tell the officer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import forum, metrics, officer_alerts
from db.models import Alert, Participant

SEVERITIES = ("none", "low", "medium", "high", "critical")
KINDS = (
    "flag",
    "help_request",
    "checkin",
    "missed_checkins",
    "cant_make_it",
    "no_confirmation",
    "paused",
    "unreachable",
)


def severity_rank(severity: str) -> int:
    """Order severities so the worst can be picked (unknown counts as none)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def worst(*severities: str) -> str:
    """The most severe of several severities."""
    return max(severities, key=severity_rank, default="none")


async def raise_alert(
    session: AsyncSession,
    participant: Participant,
    *,
    kind: str,
    severity: str,
    now: datetime,
    categories: Sequence[str] = (),
    matches: Sequence[str] = (),
    excerpt: str | None = None,
    message_id: int | None = None,
    help_request_id: int | None = None,
    appointment_id: int | None = None,
    deliver: bool = True,
) -> Alert:
    """Add an alert row and queue its delivery to the officer (unless `deliver` is off:
    then it only waits in /handled and the case timeline)."""
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    alert = Alert(
        participant_id=participant.id,
        kind=kind,
        severity=severity if severity in SEVERITIES[1:] else "low",
        categories=list(categories),
        matches=list(matches),
        excerpt=excerpt[:3000] if excerpt else None,
        message_id=message_id,
        help_request_id=help_request_id,
        appointment_id=appointment_id,
        status="open",
        created_at=now,
    )
    session.add(alert)
    await session.flush()
    metrics.current().alerts.labels(alert.severity).inc()
    if deliver:
        await officer_alerts.enqueue(session, alert, participant, now)
    await forum.refresh_title(session, participant, now)
    return alert
