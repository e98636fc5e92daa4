"""Whether the participant came: ATTEND_ASK_AFTER an appointment's time, the officer is
asked (*Attended* / *No-show* / *Rescheduled*); `oprit appointment attended` records it
too. It feeds the evaluation of the programme. Each appointment is asked about once
(claimed in the database); appointments longer than LOOK_BACK ago are never asked about,
so a first start on an old database does not flood the officer. At most ASK_PER_TICK are
asked per scheduler tick, oldest first: the questions are queued in the tick's one
transaction, and a backlog of thousands (a first start after an upgrade on a large
database) held SQLite's writer for over a minute, so no update, crises included, was
processed meanwhile; the rest follow on the next ticks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.choices import choice_id
from bot.conversation.replies import Choice, Reply
from bot.i18n import _, use_language, when
from bot.runtime import Tx
from bot.services import staff_alerts
from bot.services.appointments import AppointmentError
from db import appointments as appointments_db
from db import audit, people
from db.enums import AppointmentStatus, Attendance
from db.models import Appointment, Participant

FLOW_ID = "att"
ATTEND_ASK_AFTER = timedelta(hours=1)
LOOK_BACK = timedelta(days=7)
ASK_PER_TICK = 50
OUTCOMES = tuple(outcome.value for outcome in Attendance)


def outcome_label(outcome: str) -> str:
    """An attendance outcome as staff read it (a button, a confirmation)."""
    return {
        "attended": _("✅ Attended"),
        # Translators: the participant did not come to the appointment
        "no-show": _("❌ No-show"),
        "rescheduled": _("🔁 Rescheduled"),
    }.get(outcome, outcome)


def question(appointment: Appointment, participant: Participant, tx: Tx) -> Reply:
    """The officer's question after an appointment, with one button per outcome."""
    text = _("Did {name} come to the appointment with {organisation} on {when}?").format(
        name=participant.name,
        organisation=appointment.with_org,
        when=when(appointment.at, tx.settings.tz),
    )
    token = str(appointment.id)
    buttons = [Choice(choice_id(FLOW_ID, token, value), outcome_label(value)) for value in OUTCOMES]
    return Reply(text, [buttons], about=participant.id)


async def ask_due(tx: Tx) -> int:
    """Ask about every appointment whose time passed ATTEND_ASK_AFTER ago; returns how many
    questions were queued."""
    session, now = tx.session, tx.now
    asked = 0
    due = await appointments_db.passed_unasked(
        session, now - ATTEND_ASK_AFTER - LOOK_BACK, now - ATTEND_ASK_AFTER, ASK_PER_TICK
    )
    for appointment in due:
        participant = await people.participant_by_id(session, appointment.participant_id)
        if participant is None:
            continue
        if not await appointments_db.claim_attendance_question(session, appointment.id, now):
            continue
        for member in await staff_alerts.responsible_staff(session, participant):
            with use_language(member.language):
                reply = question(appointment, participant, tx)
            outbox.to_staff(session, member, [reply], now=now, kind="alert", about=participant.id)
            asked += 1
    return asked


async def record(
    session: AsyncSession,
    appointment_id: int,
    outcome: str,
    *,
    now: datetime,
    actor: str = "cli",
    actor_telegram_id: int | None = None,
) -> Appointment:
    """Record whether the participant came; the last answer counts (a mistake can be
    corrected)."""
    if outcome not in OUTCOMES:
        raise AppointmentError(f"unknown outcome {outcome[:40]!r}; use {', '.join(OUTCOMES)}")
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != AppointmentStatus.SCHEDULED:
        raise AppointmentError(f"no planned appointment with id {appointment_id}")
    if appointment.at > now:
        raise AppointmentError("the appointment has not happened yet")
    appointment.attendance = outcome
    audit.add(
        session,
        "attendance_recorded",
        actor=actor,
        actor_telegram_id=actor_telegram_id,
        participant_id=appointment.participant_id,
        detail={"appointment_id": appointment.id, "outcome": outcome},
        at=now,
    )
    return appointment
