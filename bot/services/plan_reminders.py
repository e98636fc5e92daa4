"""Time-driven work of the plan: the participant's reminder the day before a task of
theirs is due, and the officer's alert when such a task is OVERDUE_DAYS overdue.

Each task is reminded and alerted on once (claimed in the database), so a restart or a
second worker never repeats it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.conversation import outbox
from bot.i18n import _, use_language
from bot.runtime import Tx
from bot.services import alerts, plan
from db import people
from db import plans as plans_db
from db.enums import AlertKind, ParticipantStatus

log = logging.getLogger(__name__)

REMINDER_HOUR = 10  # local time: the day before the task is due
OVERDUE_DAYS = 3


async def remind_due_tomorrow(tx: Tx) -> int:
    """Queue the reminders for participants' tasks due tomorrow; returns how many."""
    session, now, zone = tx.session, tx.now, tx.settings.tz
    local = now.astimezone(zone)
    if local.hour < REMINDER_HOUR:
        return 0
    today = local.date()
    queued = 0
    for task in await plans_db.participant_tasks_due_on(session, today + timedelta(days=1)):
        participant = await people.participant_by_id(session, task.participant_id)
        if participant is None or participant.status != ParticipantStatus.ACTIVE:
            continue
        if not await plans_db.claim_task_reminder(session, task.id, now):
            continue
        with use_language(participant.language):
            reply = plan.task_reply(task, zone, today, _("⏰ Reminder: this is due tomorrow."))
        queued += outbox.to_participant(
            session,
            participant,
            [reply],
            now=now,
            kind="reminder",
            priority=outbox.PRIORITY_REMINDER,
        )
    if queued:
        log.info("plan task reminders queued", extra={"count": queued})
    return queued


async def alert_overdue(tx: Tx) -> int:
    """Alert the officer about participants' tasks OVERDUE_DAYS past their date."""
    session, now, zone = tx.session, tx.now, tx.settings.tz
    cutoff = now.astimezone(zone).date() - timedelta(days=OVERDUE_DAYS)
    raised = 0
    for task in await plans_db.participant_tasks_overdue(session, cutoff):
        participant = await people.participant_by_id(session, task.participant_id)
        if participant is None or not await plans_db.claim_overdue_alert(session, task.id, now):
            continue
        with use_language(tx.settings.default_language):  # staff read it, not the participant
            title = plan.title_of(task)
        await alerts.raise_alert(
            tx,
            participant,
            kind=AlertKind.TASK_OVERDUE,
            severity="low",
            categories=[task.domain, task.due_on.isoformat() if task.due_on else ""],
            excerpt=title,
        )
        raised += 1
    return raised
