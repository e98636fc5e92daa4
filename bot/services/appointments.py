"""Appointments: creating, moving and cancelling them with their reminders, telling the
participant about each change, showing them, and what the officer hears when the
participant answers.

Times are stored in UTC and shown in the participant's language and OPRIT_TIMEZONE.
Reminder rows are made when the appointment is made (one per offset that is still in
the future); the scheduler sends them.

*I can't make it* raises a medium alert that waits REASON_WAIT for the reason the
participant may type (or *Skip*), so the officer reads one alert with the reason in it;
without an answer it goes out anyway. *I'll be there* afterwards undoes it: the alert is
resolved, and an officer who already read it is told. Alerts about an appointment keep
with whom and when it was (their `categories`), so the officer's alert can name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from icalendar import Calendar, Event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.choices import choice_id
from bot.conversation.replies import Attachment, Choice, Reply
from bot.i18n import _, use_language, when
from bot.runtime import Tx
from bot.services import alerts, staff_alerts, threads
from bot.text import clean
from db import appointments as appointments_db
from db import outbox as outbox_db
from db import people
from db.enums import (
    AlertKind,
    AlertStatus,
    AppointmentStatus,
    Confirmation,
    ParticipantStatus,
    ReminderStatus,
)
from db.models import Alert, Appointment, Participant, Reminder

# The participant's appointment flow (bot.flows.appointments); its buttons also come with
# every reminder, so they are made here.
FLOW_ID = "ap"
MAX_FIELD = 500
MAX_REASON = MAX_FIELD * 4
REASON_WAIT = timedelta(minutes=10)  # how long a can't-make-it alert waits for the reason
APPOINTMENT_ALERTS = (AlertKind.CANT_MAKE_IT, AlertKind.NO_CONFIRMATION)


class Change(StrEnum):
    """What happened to an appointment, as the participant is told."""

    PLANNED = "planned"
    MOVED = "moved"
    CANCELLED = "cancelled"


class Told(StrEnum):
    """Whether the participant was told about a change (and why not)."""

    TOLD = "told"
    UNREACHABLE = "unreachable"  # blocked the bot, not signed up, or nowhere to reach


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
        reminder.status = ReminderStatus.CANCELLED
    appointment.at = at
    appointment.confirmation = Confirmation.PENDING
    appointment.decline_reason = None
    times = _add_reminders(session, appointment, offsets, now, zone)
    await session.flush()
    return NewAppointment(appointment, times)


async def cancel(session: AsyncSession, appointment_id: int) -> Appointment:
    """Cancel an appointment and every reminder that has not gone out."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != AppointmentStatus.SCHEDULED:
        raise AppointmentError(f"no planned appointment with id {appointment_id}")
    appointment.status = AppointmentStatus.CANCELLED
    for reminder in await appointments_db.pending_reminders(session, appointment.id):
        reminder.status = ReminderStatus.CANCELLED
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
    """*I'll be there* / *I can't make it*; the appointment id is in the signed button. After
    one answer the other stays, so it can be changed (undone) until the appointment."""
    token = str(appointment.id)
    yes = Choice(choice_id(FLOW_ID, token, "yes"), _("👍 I'll be there"))
    no = Choice(choice_id(FLOW_ID, token, "no"), _("I can't make it"))
    if appointment.confirmation == Confirmation.CONFIRMED:
        return [[no]]
    if appointment.confirmation == Confirmation.DECLINED:
        return [[yes]]
    return [[yes, no]]


def calendar_choice(appointment: Appointment) -> Choice:
    """*Add to calendar*: the .ics file of this appointment."""
    return Choice(choice_id(FLOW_ID, str(appointment.id), "ics"), _("📆 Add to calendar"))


def answer_choices(appointment: Appointment) -> list[list[Choice]]:
    """Every button under an appointment the participant sees: the answers and the calendar."""
    return [*confirm_choices(appointment), [calendar_choice(appointment)]]


def status_line(appointment: Appointment) -> str | None:
    """What the participant already said, if anything."""
    if appointment.confirmation == Confirmation.CONFIRMED:
        return _("You said you will be there. 👍")
    if appointment.confirmation == Confirmation.DECLINED:
        return _("You said you cannot make it.")
    return None


def reminder_reply(appointment: Appointment, zone: tzinfo, now: datetime) -> Reply:
    """A reminder: what, when, where, the officer's note, and the buttons."""
    text = _("Reminder of your appointment:") + "\n" + describe(appointment, zone, now)
    text += "\n" + (status_line(appointment) or _("Will you be there?"))
    return Reply(text, answer_choices(appointment))


def change_reply(
    appointment: Appointment,
    change: Change,
    zone: tzinfo,
    now: datetime,
    footer: str | None = None,
) -> Reply:
    """What the participant reads when an appointment is planned, moved or cancelled
    (`footer`: a line more, such as that it comes back every week)."""
    if change is Change.CANCELLED:
        head = _("Your appointment is cancelled. You do not have to go:")
        return Reply(head + "\n" + describe(appointment, zone, now))
    if change is Change.MOVED:
        head = _("Your appointment has moved. This is the new time:")
    else:
        head = _("You have a new appointment:")
    text = head + "\n" + describe(appointment, zone, now)
    if footer:
        text += "\n" + footer
    return Reply(text + "\n" + _("Will you be there?"), answer_choices(appointment))


def reachable(participant: Participant) -> bool:
    """Whether a change the officer made reaches the participant: a paused participant
    too, since /stop pauses automatic messages only."""
    signed_up = (ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED)
    return participant.status in signed_up and outbox.address_of(participant) is not None


async def tell_participant(
    session: AsyncSession,
    appointment: Appointment,
    change: Change,
    *,
    zone: tzinfo,
    now: datetime,
    footer: str | None = None,
) -> Told:
    """Queue the message about a change for the participant, in their language (not to a
    participant who cannot be reached: the officer is told instead)."""
    participant = await people.participant_by_id(session, appointment.participant_id)
    if participant is None or not reachable(participant):
        return Told.UNREACHABLE
    with use_language(participant.language):
        reply = change_reply(appointment, change, zone, now, footer)
    outbox.to_participant(
        session, participant, [reply], now=now, kind="appointment", priority=outbox.PRIORITY_REPLY
    )
    return Told.TOLD


def told_line(name: str, told: Told) -> str:
    """For the officer: whether the participant heard about the change."""
    if told is Told.TOLD:
        return _("{name} got a message about it.").format(name=name)
    return _("{name} was not told: the bot cannot reach them.").format(name=name)


def alert_details(appointment: Appointment, zone: tzinfo) -> list[str]:
    """What an alert about this appointment keeps of it: with whom, and when (local time
    with its offset, so the alert reads the same however the appointment changes later)."""
    return [appointment.with_org, appointment.at.astimezone(zone).isoformat()]


def alert_reason(kind: str, details: list[str] | None) -> str | None:
    """The line of an appointment alert that names the appointment, in the current
    (officer's) language; None when the alert does not say which appointment it was."""
    if not details or len(details) != 2:
        return None
    organisation, at_text = details
    try:
        at = datetime.fromisoformat(at_text)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        return None
    moment = when(at, at.tzinfo)
    if kind == AlertKind.CANT_MAKE_IT:
        return _("Cannot make it to the appointment with {organisation} on {when}").format(
            organisation=organisation, when=moment
        )
    if kind == AlertKind.NO_CONFIRMATION:
        return _("Did not confirm the appointment with {organisation} on {when}").format(
            organisation=organisation, when=moment
        )
    return None


async def decline(tx: Tx, participant: Participant, appointment: Appointment) -> Alert:
    """*I can't make it*: marked, and an alert for the officer that waits REASON_WAIT for
    the reason (see `give_reason`)."""
    appointment.confirmation = Confirmation.DECLINED
    appointment.decline_reason = None
    alert = await alerts.raise_alert(
        tx,
        participant,
        kind=AlertKind.CANT_MAKE_IT,
        severity="medium",
        categories=alert_details(appointment, tx.settings.tz),
        appointment_id=appointment.id,
        deliver=False,
    )
    await staff_alerts.enqueue(tx, alert, participant, delay=REASON_WAIT)
    return alert


async def give_reason(
    tx: Tx, participant: Participant, appointment: Appointment, alert_id: int, reason: str | None
) -> None:
    """The reason after *I can't make it* (None: *Skip*). The waiting alert goes out now,
    with the reason; one that already went out goes again only when there is a reason."""
    if appointment.confirmation != Confirmation.DECLINED:
        return  # undone or moved meanwhile: the reason is about nothing any more
    if reason:
        appointment.decline_reason = reason[:MAX_REASON]
    alert = await tx.session.get(Alert, alert_id)
    if (
        alert is None
        or alert.appointment_id != appointment.id
        or alert.kind != AlertKind.CANT_MAKE_IT
        or alert.status == AlertStatus.RESOLVED
    ):
        return
    if reason:
        alert.excerpt = reason[:MAX_REASON]
    waiting = await outbox_db.cancel_pending(tx.session, alert.id)
    if waiting or reason:
        await staff_alerts.enqueue(tx, alert, participant)


async def attend(tx: Tx, participant: Participant, appointment: Appointment) -> None:
    """*I'll be there*, also after *I can't make it* or a missed confirmation: the alerts
    about it are resolved, and an officer who already read one is told it changed."""
    appointment.confirmation = Confirmation.CONFIRMED
    appointment.decline_reason = None
    session = tx.session
    read: Alert | None = None
    found = await appointments_db.open_alerts(session, appointment.id, APPOINTMENT_ALERTS)
    for alert in found:
        if not await outbox_db.cancel_pending(session, alert.id):
            read = alert  # it went out (or is going out right now)
        alert.status = AlertStatus.RESOLVED
    if found:
        await threads.refresh_title(tx, participant)
    if read is not None:
        await _tell_staff(tx, participant, appointment, read)


async def _tell_staff(
    tx: Tx, participant: Participant, appointment: Appointment, alert: Alert
) -> None:
    """The officer reads that the participant will be there after all: where the alert went
    (the participant's topic in forum mode, else the private chats), in their language. A
    reply to it reaches the participant, like a reply to the alert."""
    session, zone = tx.session, tx.settings.tz
    staff = await staff_alerts.responsible_staff(session, participant)

    def notice() -> Reply:
        text = _("✅ {name} will be there after all: {organisation}, {when}.").format(
            name=participant.name,
            organisation=appointment.with_org,
            when=when(appointment.at, zone),
        )
        return Reply(text, about=participant.id)

    group = tx.routing.officer_group
    if group is not None:
        with use_language(staff[0].language if staff else "nl"):
            reply = notice()
        outbox.to_officer_group(
            session,
            group,
            participant,
            [reply],
            now=tx.now,
            kind="alert",
            priority=outbox.PRIORITY_ALERT,
            alert_id=alert.id,
        )
        return
    for member in staff:
        with use_language(member.language):
            reply = notice()
        outbox.to_staff(
            session,
            member,
            [reply],
            now=tx.now,
            kind="alert",
            priority=outbox.PRIORITY_ALERT,
            about=participant.id,
            alert_id=alert.id,
        )


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
    if appointment.note:
        event.add("description", appointment.note)
    calendar.add_component(event)
    return Attachment(f"appointment-{appointment.id}.ics", calendar.to_ical(), "text/calendar")
