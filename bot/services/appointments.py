"""Appointments: creating them with their reminders, showing them, confirming them.

Times are stored in UTC and shown in the participant's language and OPRIT_TIMEZONE.
Reminder rows are made when the appointment is made (one per offset that is still in
the future); the scheduler sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from icalendar import Calendar, Event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.choices import choice_id
from bot.conversation.replies import Attachment, Choice, Reply
from bot.i18n import _, when
from bot.text import clean
from db import appointments as appointments_db
from db import people
from db.enums import AppointmentStatus, ReminderStatus
from db.models import Appointment, Reminder

# The participant's appointment flow (bot.flows.appointments); its buttons also come with
# every reminder, so they are made here.
FLOW_ID = "ap"
MAX_FIELD = 500


class AppointmentError(ValueError):
    """An appointment that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class NewAppointment:
    """The appointment and the moments its reminders will go out."""

    appointment: Appointment
    reminder_times: list[datetime]


def _clean(value: str | None, name: str, required: bool = False) -> str | None:
    cleaned = clean(value or "").strip()
    if required and not cleaned:
        raise AppointmentError(f"{name} is empty")
    if len(cleaned) > MAX_FIELD:
        raise AppointmentError(f"{name} is longer than {MAX_FIELD} characters")
    return cleaned or None


async def create(
    session: AsyncSession,
    participant_id: int,
    *,
    at: datetime,
    with_org: str,
    location: str | None,
    note: str | None,
    offsets: list[timedelta],
    now: datetime,
    zone: tzinfo,
) -> NewAppointment:
    """Make an appointment and its reminders (offsets already past are skipped)."""
    participant = await people.participant_by_id(session, participant_id)
    if participant is None:
        raise AppointmentError(f"no participant with id {participant_id}")
    if at <= now:
        raise AppointmentError("the appointment is in the past")
    appointment = Appointment(
        participant_id=participant.id,
        at=at,
        with_org=_clean(with_org, "--with", required=True) or "",
        location=_clean(location, "--location"),
        note=_clean(note, "--note"),
        created_at=now,
    )
    session.add(appointment)
    await session.flush()
    times = _add_reminders(session, appointment, offsets, now, zone)
    await session.flush()
    return NewAppointment(appointment, times)


def reminder_time(at: datetime, offset: timedelta, zone: tzinfo) -> datetime:
    """When a reminder goes out. Whole days mean the same local clock time that many days
    before (so a DST change never moves "the day before at 14:00"); anything else is an
    exact duration before the appointment."""
    if offset.total_seconds() % 86400 == 0:
        local = at.astimezone(zone)
        earlier = datetime.combine(local.date() - timedelta(days=offset.days), local.timetz())
        return earlier.replace(tzinfo=zone).astimezone(UTC)
    return at - offset


def _add_reminders(
    session: AsyncSession,
    appointment: Appointment,
    offsets: list[timedelta],
    now: datetime,
    zone: tzinfo,
) -> list[datetime]:
    """One pending reminder per offset that is still in the future."""
    times = []
    for offset in sorted(set(offsets), reverse=True):
        due = reminder_time(appointment.at, offset, zone)
        if due <= now:
            continue
        session.add(
            Reminder(
                appointment_id=appointment.id,
                offset_seconds=int(offset.total_seconds()),
                due_at=due,
                status=ReminderStatus.PENDING,
            )
        )
        times.append(due)
    return times


async def move(
    session: AsyncSession,
    appointment_id: int,
    *,
    at: datetime,
    offsets: list[timedelta],
    now: datetime,
    zone: tzinfo,
) -> NewAppointment:
    """Move an appointment: its unsent reminders are replaced by new ones."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != AppointmentStatus.SCHEDULED:
        raise AppointmentError(f"no planned appointment with id {appointment_id}")
    if at <= now:
        raise AppointmentError("the new time is in the past")
    for reminder in await appointments_db.pending_reminders(session, appointment.id):
        reminder.status = "cancelled"
    appointment.at = at
    appointment.confirmation = "pending"
    times = _add_reminders(session, appointment, offsets, now, zone)
    await session.flush()
    return NewAppointment(appointment, times)


async def cancel(session: AsyncSession, appointment_id: int) -> Appointment:
    """Cancel an appointment and every reminder that has not gone out."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != AppointmentStatus.SCHEDULED:
        raise AppointmentError(f"no planned appointment with id {appointment_id}")
    appointment.status = "cancelled"
    for reminder in await appointments_db.pending_reminders(session, appointment.id):
        reminder.status = "cancelled"
    return appointment


def describe(appointment: Appointment, zone: tzinfo, now: datetime | None = None) -> str:
    """One appointment as a participant reads it: when, with whom, where."""
    # Translators: the lines of an appointment; keep the emoji, they replace the labels
    lines = [_("📅 {when}").format(when=when(appointment.at, zone, now))]
    lines.append(_("👤 {organisation}").format(organisation=appointment.with_org))
    if appointment.location:
        lines.append(_("📍 {place}").format(place=appointment.location))
    if appointment.note:
        lines.append(_("📝 {note}").format(note=appointment.note))
    return "\n".join(lines)


def confirm_choices(appointment: Appointment) -> list[list[Choice]]:
    """*I'll be there* / *I can't make it*; the appointment id is in the signed button."""
    token = str(appointment.id)
    return [
        [
            Choice(choice_id(FLOW_ID, token, "yes"), _("👍 I'll be there")),
            Choice(choice_id(FLOW_ID, token, "no"), _("I can't make it")),
        ]
    ]


def reminder_reply(appointment: Appointment, zone: tzinfo, now: datetime) -> Reply:
    """A reminder: what, when, where, what to bring, and the confirmation buttons."""
    text = _("Reminder of your appointment:") + "\n" + describe(appointment, zone, now)
    text += "\n" + _("Bring your ID card. Will you be there?")
    return Reply(text, confirm_choices(appointment))


def calendar_file(appointment: Appointment) -> Attachment:
    """An .ics file with the appointment (one hour long, times in UTC)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Oprit//oprit//NL")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"oprit-appointment-{appointment.id}@oprit")
    event.add("dtstamp", appointment.created_at)
    event.add("dtstart", appointment.at)
    event.add("dtend", appointment.at + timedelta(hours=1))
    event.add("summary", appointment.with_org)
    if appointment.location:
        event.add("location", appointment.location)
    calendar.add_component(event)
    return Attachment(f"appointment-{appointment.id}.ics", calendar.to_ical(), "text/calendar")
