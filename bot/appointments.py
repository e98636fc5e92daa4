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

from bot import alerts, guide
from bot.flows import ChoiceId, choice_id, clean, new_token
from bot.i18n import _, when
from bot.replies import Attachment, Choice, Keyboard, Reply
from db import appointments as appointments_db
from db import conversation, people
from db.models import Appointment, Participant, Reminder

FLOW = "ap"
MAX_FIELD = 500


class AppointmentError(ValueError):
    """An appointment that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class NewAppointment:
    """The appointment and the moments its reminders will go out."""

    appointment: Appointment
    reminder_times: list[datetime]


def parse_local_time(text: str, zone: tzinfo) -> datetime:
    """ISO 8601; without an offset it is local time in `zone` (DST-correct)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise AppointmentError(
            f"{text[:40]!r} is not a date and time like 2026-12-03T14:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


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
                status="pending",
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
    if appointment is None or appointment.status != "scheduled":
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
    if appointment is None or appointment.status != "scheduled":
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
            Choice(choice_id(FLOW, token, "yes"), _("👍 I'll be there")),
            Choice(choice_id(FLOW, token, "no"), _("I can't make it")),
        ]
    ]


async def list_upcoming(
    session: AsyncSession, participant: Participant, now: datetime, zone: tzinfo
) -> list[Reply]:
    """/appointments: the upcoming ones, each with its buttons."""
    upcoming = await appointments_db.upcoming(session, participant.id, now)
    if not upcoming:
        return [Reply(_("You have no appointments planned."), keyboard=Keyboard.PARTICIPANT)]
    replies = []
    for appointment in upcoming[:10]:
        choices = confirm_choices(appointment) if appointment.confirmation == "pending" else []
        status = {
            "confirmed": _("You said you will be there. 👍"),
            "declined": _("You said you cannot make it."),
        }.get(appointment.confirmation)
        text = describe(appointment, zone, now) + (f"\n{status}" if status else "")
        calendar = Choice(choice_id(FLOW, str(appointment.id), "ics"), _("📆 Add to calendar"))
        replies.append(Reply(text, [*choices, [calendar]]))
    return replies


def reminder_reply(appointment: Appointment, zone: tzinfo, now: datetime) -> Reply:
    """A reminder: what, when, where, what to bring, and the confirmation buttons."""
    text = _("Reminder of your appointment:") + "\n" + describe(appointment, zone, now)
    text += "\n" + _("Bring your ID card. Will you be there?")
    return Reply(text, confirm_choices(appointment))


async def choose(
    session: AsyncSession,
    participant: Participant,
    choice: ChoiceId,
    now: datetime,
    zone: tzinfo,
) -> list[Reply]:
    """An appointment button: confirm, decline, or the calendar file."""
    appointment = await _own_appointment(session, participant, choice.token)
    if appointment is None:
        return [guide.stale_button_reply()]
    if choice.value == "ics":
        return [
            Reply(
                _("Here is your appointment for your calendar."),
                attachment=calendar_file(appointment),
            )
        ]
    if appointment.status != "scheduled" or appointment.at <= now:
        return [Reply(_("This appointment has already passed or was cancelled."))]
    if choice.value == "yes":
        appointment.confirmation = "confirmed"
        return [Reply(_("Great, see you there! 👍"))]
    if choice.value == "no":
        if appointment.confirmation == "declined":
            return [Reply(_("Already noted. 👍"))]
        appointment.confirmation = "declined"
        await alerts.raise_alert(
            session,
            participant,
            kind="cant_make_it",
            severity="medium",
            appointment_id=appointment.id,
            now=now,
        )
        await conversation.save_flow_state(
            session,
            participant.telegram_id or 0,
            FLOW,
            "reason",
            new_token(),
            {"appointment_id": appointment.id},
            now,
        )
        skip = Choice(choice_id(FLOW, str(appointment.id), "noreason"), _("Skip"))
        return [
            Reply(
                _(
                    "Thanks for letting me know. I told your officer. Do you want to say why? "
                    "Write it here, or tap Skip."
                ),
                [[skip]],
            )
        ]
    if choice.value == "noreason":
        await conversation.clear_flow_state(session, participant.telegram_id or 0)
        return [
            Reply(
                _("Okay. Your officer will contact you about a new time."),
                keyboard=Keyboard.PARTICIPANT,
            )
        ]
    return [guide.stale_button_reply()]


async def reason(
    session: AsyncSession, participant: Participant, *, text: str | None, now: datetime
) -> list[Reply] | None:
    """The optional reason after *I can't make it*; None when none is expected."""
    state = await conversation.flow_state(session, participant.telegram_id or 0)
    if state is None or state.flow != FLOW or state.step != "reason" or not text:
        return None
    appointment = await _own_appointment(
        session, participant, str((state.data or {}).get("appointment_id", ""))
    )
    await conversation.clear_flow_state(session, participant.telegram_id or 0)
    if appointment is None:
        return None
    appointment.decline_reason = text[: MAX_FIELD * 4]
    return [
        Reply(
            _("Thank you. Your officer will contact you about a new time."),
            keyboard=Keyboard.PARTICIPANT,
        )
    ]


async def _own_appointment(
    session: AsyncSession, participant: Participant, raw_id: str
) -> Appointment | None:
    """The appointment with that id, only if it belongs to this participant."""
    if not raw_id.isdigit():
        return None
    appointment = await session.get(Appointment, int(raw_id))
    if appointment is None or appointment.participant_id != participant.id:
        return None
    return appointment


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
