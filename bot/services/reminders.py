"""Sending appointment reminders when they fall due.

A reminder that fell due while the bot was down is still sent if the appointment is
ahead (only the latest one, when several fell due); otherwise it is dropped (and
logged). Each reminder row is moved on exactly once, so a restart or a second worker
never sends it twice. When the last reminder goes out and the participant has still not
confirmed, the officer is told.

Telegram takes about 30 messages a second from a bot, so 5,000 reminders due in the same
minute would arrive up to three minutes late. When such a peak is coming, reminders start
going out early (at most MAX_LEAD before their time), just early enough that the last one
is not late; without a peak the lead is a fraction of a second.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.i18n import use_language
from bot.runtime import Tx
from bot.services import alerts, appointments
from db import appointments as appointments_db
from db import people
from db.enums import AlertKind, AppointmentStatus, Confirmation, ParticipantStatus, ReminderStatus
from db.models import Appointment

log = logging.getLogger(__name__)

BATCH = 500
MAX_LEAD = timedelta(minutes=10)
# Reminders a second we plan for: Telegram's 30 minus the slots kept for urgent messages
# and room for the replies and acknowledgements that go before reminders.
PLANNED_PER_SECOND = 20


async def sending_lead(session: AsyncSession, now: datetime) -> timedelta:
    """How long before its due time a reminder is queued: the time the reminders of the
    next MAX_LEAD take to send, so that a peak is spread out before it instead of after."""
    coming = await appointments_db.count_pending_reminders(session, now + MAX_LEAD)
    return min(MAX_LEAD, timedelta(seconds=coming / PLANNED_PER_SECOND))


async def queue_due(tx: Tx) -> tuple[int, bool]:
    """Turn up to BATCH due reminders into outbox rows; returns how many were queued and
    whether there may be more due."""
    session, now, zone = tx.session, tx.now, tx.settings.tz
    queued = 0
    due = await appointments_db.due_reminders(
        session, now + await sending_lead(session, now), BATCH
    )
    newest = {  # ordered by due_at; only reminders already past due are caught up on
        reminder.appointment_id: reminder.id for reminder in due if reminder.due_at <= now
    }
    for reminder in due:
        if reminder.due_at <= now and newest[reminder.appointment_id] != reminder.id:
            # Catching up after downtime: only the latest reminder of an appointment goes.
            await appointments_db.claim_reminder(session, reminder.id, ReminderStatus.DROPPED, now)
            continue
        appointment = await session.get(Appointment, reminder.appointment_id)
        participant = (
            await people.participant_by_id(session, appointment.participant_id)
            if appointment is not None
            else None
        )
        if appointment is None or participant is None or participant.telegram_id is None:
            await appointments_db.claim_reminder(session, reminder.id, ReminderStatus.DROPPED, now)
            continue
        if appointment.status != AppointmentStatus.SCHEDULED or appointment.at <= now:
            if await appointments_db.claim_reminder(
                session, reminder.id, ReminderStatus.DROPPED, now
            ):
                log.info(
                    "late reminder dropped: appointment already passed",
                    extra={"reminder_id": reminder.id, "appointment_id": appointment.id},
                )
            continue
        if participant.status != ParticipantStatus.ACTIVE:
            await appointments_db.claim_reminder(session, reminder.id, ReminderStatus.SKIPPED, now)
            continue
        if not await appointments_db.claim_reminder(session, reminder.id, ReminderStatus.SENT, now):
            continue
        with use_language(participant.language):
            reply = appointments.reminder_reply(appointment, zone, now)
        queued += outbox.to_participant(
            session,
            participant,
            [reply],
            now=now,
            kind="reminder",
            priority=outbox.PRIORITY_REMINDER,
        )
        last = not await appointments_db.pending_reminders(session, appointment.id)
        if last and appointment.confirmation == Confirmation.PENDING:
            await alerts.raise_alert(
                tx,
                participant,
                kind=AlertKind.NO_CONFIRMATION,
                severity="low",
                categories=appointments.alert_details(appointment, zone),
                appointment_id=appointment.id,
            )
    return queued, len(due) == BATCH
