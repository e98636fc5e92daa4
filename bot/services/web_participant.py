"""The participant page's actions beyond the conversation: add an appointment (the chat's
rules), make an invite for someone not yet in the chat, download the export (as `oprit
export`), read the plan (tasks per domain, referrals, conditions) and mark a task done,
and find a message's media. Each is allowed only for a participant the staff member may
see (None/False otherwise, like `dashboard.visible_participant`) and audited.

Plan data is read through the plan, referral, condition and partner services only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.i18n import _
from bot.runtime import Tx
from bot.services import appointments, conditions, export, partners, plan, referrals
from bot.services.dashboard import visible_participant
from bot.services.invites import InviteError, NewInvite, create_invite
from bot.text import clean
from bot.timeparse import MAX_AHEAD
from db import audit, state
from db.enums import ParticipantStatus, TaskStatus
from db.models import Condition, Message, Participant, Referral, Staff

INVITE_VALID = timedelta(days=14)  # as the chat's /invite
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"  # a name of only these is no name


def _audit(tx: Tx, staff: Staff, action: str, participant_id: int, **detail: object) -> None:
    audit.add(
        tx.session,
        action,
        actor="staff",
        actor_telegram_id=staff.telegram_id,
        participant_id=participant_id,
        detail={"via": "web", **detail},
        at=tx.now,
    )


# -- appointments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AppointmentForm:
    """What the form sent, as typed (kept to show again when refused)."""

    at: str = ""
    with_org: str = ""
    location: str = ""
    note: str = ""


def appointment_problems(form: AppointmentForm, moment: datetime | None, tx: Tx) -> dict[str, str]:
    """Why an appointment cannot be made, per field, by the chat's rules (empty: it can)."""
    found: dict[str, str] = {}
    if moment is None:
        found["at"] = _("Choose a date and time.")
    elif moment <= tx.now:
        found["at"] = _("That moment has passed. Type a later time.")
    elif moment > tx.now + MAX_AHEAD:
        found["at"] = _("That is more than two years ahead. Type an earlier day.")
    with_org = clean(form.with_org).strip()
    if not with_org.strip(INVISIBLE).strip() or len(with_org) > appointments.MAX_FIELD:
        found["with_org"] = _("Please type a short name of the organisation.")
    if len(clean(form.location).strip()) > appointments.MAX_FIELD:
        found["location"] = _("That address is too long.")
    if len(clean(form.note).strip()) > appointments.MAX_FIELD:
        # Translators: on the dashboard's appointment form
        found["note"] = _("The note is too long: at most 500 characters.")
    return found


async def add_appointment(
    tx: Tx, staff: Staff, participant: Participant, form: AppointmentForm, moment: datetime
) -> appointments.NewAppointment:
    """Plan it with its reminders and tell the participant, as the chat's /appointment
    does (checked by `appointment_problems` first)."""
    zone = tx.settings.tz
    made = await appointments.create(
        tx.session,
        participant.id,
        at=moment,
        with_org=form.with_org,
        location=form.location or None,
        note=form.note or None,
        offsets=tx.settings.reminder_offsets,
        zone=zone,
        now=tx.now,
    )
    await appointments.tell_participant(
        tx.session, made.appointment, appointments.Change.PLANNED, zone=zone, now=tx.now
    )
    _audit(tx, staff, "web_appointment", participant.id, appointment=made.appointment.id)
    tx.runtime.wake_outbox()
    return made


# -- invite and export -----------------------------------------------------------------------


def may_invite(participant: Participant) -> bool:
    """Only someone enrolled who has not signed up in the chat gets an invite."""
    return participant.status == ParticipantStatus.IN_DETENTION


async def invite(tx: Tx, staff: Staff, participant: Participant) -> tuple[NewInvite, str] | None:
    """A single-use invite (older unused ones stop working) and its deep link."""
    if not may_invite(participant):
        return None
    try:
        made = await create_invite(
            tx.session,
            now=tx.now,
            valid_for=INVITE_VALID,
            created_by=staff.telegram_id,
            participant_id=participant.id,
        )
    except InviteError:
        return None
    username = await state.get(tx.session, "bot_username") or tx.runtime.bot_username
    _audit(tx, staff, "web_invite", participant.id)
    return made, made.link(username)


async def export_bytes(tx: Tx, staff: Staff, participant_id: int) -> bytes | None:
    """Everything stored about the participant as `oprit export` prints it (audited)."""
    if await visible_participant(tx, staff, participant_id) is None:
        return None
    document = await export.export_participant(tx.session, participant_id)
    if document is None:
        return None
    audit.add(
        tx.session,
        "export",
        actor="staff",
        actor_telegram_id=staff.telegram_id,
        participant_id=participant_id,
        detail={"via": "web"},
        at=tx.now,
    )
    return export.as_json_bytes(document)


# -- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One task on the page."""

    id: int
    title: str
    owner: str
    due: date | None
    status: str


@dataclass(frozen=True)
class Goal:
    """A life domain with its tasks."""

    domain: str
    tasks: Sequence[Task]


@dataclass(frozen=True)
class PlanView:
    """The plan on the participant's page."""

    goals: Sequence[Goal]
    referrals: Sequence[tuple[Referral, str]]  # with the partner's name
    conditions: Sequence[Condition]
    today: date


def _task(row: dict[str, Any]) -> Task:
    title = plan.template_title(row["template"]) if row["template"] else str(row["title"])
    due = date.fromisoformat(row["due"]) if row["due"] else None
    return Task(int(row["id"]), title, str(row["owner"]), due, str(row["status"]))


async def plan_view(tx: Tx, participant: Participant) -> PlanView:
    """Goals and tasks per domain, referrals with their state, conditions (staff only)."""
    shown = await plan.show(tx.session, participant.id)
    names = {partner.id: partner.name for partner in await partners.listed(tx.session)}
    return PlanView(
        goals=[
            Goal(goal["domain"], [_task(row) for row in goal["tasks"]]) for goal in shown["goals"]
        ],
        referrals=[
            (referral, names.get(referral.partner_id, "?"))
            for referral in await referrals.listed(tx.session, participant.id)
        ],
        conditions=await conditions.listed(tx.session, participant.id),
        today=plan.local_today(tx.now, tx.settings.tz),
    )


async def mark_done(tx: Tx, staff: Staff, participant: Participant, task_id: int) -> bool:
    """Mark one of this participant's tasks done (a second press changes nothing)."""
    shown = await plan.show(tx.session, participant.id)
    if not any(row["id"] == task_id for goal in shown["goals"] for row in goal["tasks"]):
        return False
    await plan.set_status(
        tx.session,
        task_id,
        TaskStatus.DONE,
        now=tx.now,
        actor="staff",
        actor_telegram_id=staff.telegram_id,
    )
    return True


# -- media -----------------------------------------------------------------------------------


async def media_message(
    tx: Tx, staff: Staff, participant_id: int, message_id: int
) -> Message | None:
    """A message of this participant's conversation that carries a file."""
    participant = await visible_participant(tx, staff, participant_id)
    message = await tx.session.get(Message, message_id)
    if (
        participant is None
        or message is None
        or message.participant_id != participant.id
        or not message.media_file_id
    ):
        return None
    return message
