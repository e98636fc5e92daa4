"""Alerts: something the officer must see, with the reason and the words that matched.

This module creates the rows and queues their delivery (bot.services.staff_alerts), so
every producer of alerts makes one call and cannot forget to tell the officer.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import triage
from bot.runtime import Tx
from bot.services import staff_alerts, threads
from db.enums import AlertKind, AlertStatus
from db.models import Alert, Participant


async def raise_alert(
    tx: Tx,
    participant: Participant,
    *,
    kind: AlertKind,
    severity: str,
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
    alert = Alert(
        participant_id=participant.id,
        kind=AlertKind(kind),
        severity=severity if severity in triage.SEVERITIES[1:] else "low",
        categories=list(categories),
        matches=list(matches),
        excerpt=excerpt[:3000] if excerpt else None,
        message_id=message_id,
        help_request_id=help_request_id,
        appointment_id=appointment_id,
        status=AlertStatus.OPEN,
        created_at=tx.now,
    )
    tx.session.add(alert)
    await tx.session.flush()
    tx.runtime.metrics.alerts.labels(alert.severity).inc()
    if deliver:
        await staff_alerts.enqueue(tx, alert, participant)
    await threads.refresh_title(tx, participant)
    return alert
