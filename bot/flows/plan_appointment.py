"""Appointments for officers.

`/appointment [NAME]` is a guided plan: participant, day (buttons for the coming days, or
typed like `7-12`, `morgen 14:00`, `do 10:30`), time (skipped when the day came with one),
organisation, place, and a summary where an optional note for the participant can be
added (*Add a note*); only *Confirm* creates the appointment. `/appointments [NAME]` shows a
participant's coming appointments with what they answered, each with *Move* and *Cancel*
(the same buttons come under *Planned*). Moving asks the new day and time and shows the
change before it is made. Each plan, move and cancellation is sent to the participant in
their language; the officer reads whether it reached them.

Every action re-reads the appointment and checks that the staff member may see its
participant; the buttons carry the flow's token, so buttons of an earlier run are stale.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import format_date

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.events import InboundEvent
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Reply
from bot.flows import guide
from bot.i18n import _, current_language, relative_day, when
from bot.services import appointments
from bot.services.access import may_see, not_allowed, officer_scope
from bot.text import clean
from bot.timeparse import (
    BAD_TIME,
    NO_SUCH_DAY,
    PASSED,
    TOO_FAR,
    WRONG_WEEKDAY,
    DayTime,
    Unreadable,
    local_moment,
    parse_when,
)
from db import appointments as appointments_db
from db import cases, people
from db.enums import AppointmentStatus, Confirmation
from db.models import Appointment, Participant

FLOW_ID = "oa"
PLAN, MOVE, LIST = "plan", "move", "list"  # what this run of the flow is for
DATE_BUTTONS = 9  # today and the eight days after it
PER_ROW = 3
SHOWN = 10  # appointments listed by /appointments
REASON_SHOWN = 300  # characters of a participant's reason in the list


async def start(ctx: FlowContext, args: str) -> list[Reply]:
    """/appointment [name]: ask which participant (buttons for up to 12, or a typed name
    or number); with a name that fits one participant, go on to the day."""
    return await _begin(
        ctx, args, PLAN, _("New appointment. For whom? Tap a name or type a name or number.")
    )


async def show(ctx: FlowContext, args: str) -> list[Reply]:
    """/appointments [name]: a participant's coming appointments, to move or cancel."""
    return await _begin(
        ctx, args, LIST, _("Whose appointments? Tap a name or type a name or number.")
    )


async def _begin(ctx: FlowContext, args: str, mode: str, question: str) -> list[Reply]:
    assert ctx.staff is not None
    token = new_token()
    data: dict[str, Any] = {"mode": mode}
    await ctx.save_state(FLOW_ID, "participant", token, data)
    query = clean(args).strip().lstrip("#")
    if query:
        return await _set_participant(ctx, query, data, token)
    found = await cases.find_participants(ctx.session, "", officer_scope(ctx.staff))
    choices = [
        [Choice(choice_id(FLOW_ID, token, f"p.{p.id}"), f"#{p.id} {p.name}"[:60])]
        for p in found[:12]
    ]
    choices.append([Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel"))])
    return [Reply(question, choices)]


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """A button of this flow (the registry checked the flow and its token)."""
    assert ctx.staff is not None
    state = await ctx.state()
    assert state is not None
    data: dict[str, Any] = dict(state.data or {})
    step, token, value = state.step, state.token, choice.value
    if value == "cancel":
        await ctx.clear_state()
        if data.get("mode") == PLAN:
            return [Reply(_("Stopped. No appointment was made."))]
        return [Reply(_("Stopped. Nothing was changed."))]
    if value.startswith("p.") and step == "participant":
        return await _set_participant(ctx, value[2:], data, token)
    if value.startswith("d.") and step == "date":
        return await _set_day(ctx, value[2:], data, token)
    if value == "noplace" and step == "place":
        data["location"] = None
        return await _summary(ctx, data, token)
    if value == "note" and step == "confirm" and data.get("mode") == PLAN:
        return await _ask_note(ctx, data, token)
    if value == "nonote" and step == "note":
        data["note"] = None
        return await _summary(ctx, data, token)
    if value == "confirm" and step == "confirm":
        return await (_moved(ctx, data, token) if data.get("mode") == MOVE else _planned(ctx, data))
    if value.startswith("mv."):
        return await _start_move(ctx, value[3:], token)
    if value.startswith("cx."):
        return await _ask_cancel(ctx, value[3:], token)
    if value == "cxy" and step == "cancel":
        return await _cancelled(ctx, data, token)
    if value == "keep" and step == "cancel":
        await ctx.save_state(FLOW_ID, "list", token, data)
        return [Reply(_("Okay, the appointment stays as it is."))]
    return [guide.stale_button_reply()]


async def answer(ctx: FlowContext, event: InboundEvent) -> list[Reply] | None:
    """Typed input in the flow; None when the staff member is not in a step that reads text."""
    state = await ctx.state()
    if state is None or event.text is None:
        return None
    data: dict[str, Any] = dict(state.data or {})
    text = clean(event.text).strip()
    step, token = state.step, state.token
    if step == "participant":
        return await _set_participant(ctx, text.lstrip("#"), data, token)
    if step == "date":
        return await _typed_day(ctx, text, data, token)
    if step == "time":
        return await _typed_time(ctx, text, data, token)
    if step == "with":
        if not text or len(text) > appointments.MAX_FIELD:
            return [Reply(_("Please type a short name of the organisation."))]
        data["with"] = text
        await ctx.save_state(FLOW_ID, "place", token, data)
        return [
            Reply(
                _("Where? Type the address, or tap Skip."),
                [[Choice(choice_id(FLOW_ID, token, "noplace"), _("Skip"))]],
            )
        ]
    if step == "place":
        if len(text) > appointments.MAX_FIELD:
            return [Reply(_("That address is too long."))]
        data["location"] = text or None
        return await _summary(ctx, data, token)
    if step == "note":
        if not text or len(text) > appointments.MAX_FIELD:
            return [Reply(_("Please type a short note of at most 500 characters, or tap Skip."))]
        data["note"] = text
        return await _summary(ctx, data, token)
    if step == "confirm":
        return [Reply(_("Tap Confirm or Cancel above."))]
    if step == "cancel":
        return [Reply(_("Please use the buttons above."))]
    return None  # a list: nothing typed is expected


# -- who -------------------------------------------------------------------------------------


async def _set_participant(
    ctx: FlowContext, query: str, data: dict[str, Any], token: str
) -> list[Reply]:
    assert ctx.staff is not None
    found = await cases.find_participants(ctx.session, query, officer_scope(ctx.staff))
    if len(found) != 1:
        return [Reply(_("I cannot find exactly one participant with that. Try the number."))]
    participant = found[0]
    data["participant_id"] = participant.id
    if data.get("mode") == LIST:
        return await _list(ctx, participant, token)
    await ctx.save_state(FLOW_ID, "date", token, data)
    return [
        Reply(
            _(
                "{name}. Which day? Tap a day, or type it like 7-12, morgen 14:00 or do 10:30."
            ).format(name=participant.name),
            _day_choices(ctx, token),
            about=participant.id,
        )
    ]


# -- when ------------------------------------------------------------------------------------


def _day_choices(ctx: FlowContext, token: str) -> list[list[Choice]]:
    """Buttons for today and the days after it, in the staff member's language."""
    today = ctx.now.astimezone(ctx.zone).date()
    language = current_language()
    buttons = []
    for ahead in range(DATE_BUTTONS):
        day = today + timedelta(days=ahead)
        word = relative_day(ahead, language) if ahead < 2 else None
        label = word[:1].upper() + word[1:] if word else format_date(day, "EEE d MMM", language)
        buttons.append(Choice(choice_id(FLOW_ID, token, f"d.{day.isoformat()}"), label))
    rows = [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    rows.append([Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel"))])
    return rows


async def _set_day(ctx: FlowContext, raw: str, data: dict[str, Any], token: str) -> list[Reply]:
    """A day button: then the time."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return [guide.stale_button_reply()]
    if day < ctx.now.astimezone(ctx.zone).date():
        return [Reply(_("That day has passed. Type a later day."))]
    data["date"] = day.isoformat()
    await ctx.save_state(FLOW_ID, "time", token, data)
    return [Reply(_("What time? (like 14:00)"))]


async def _typed_day(ctx: FlowContext, text: str, data: dict[str, Any], token: str) -> list[Reply]:
    """A typed day, perhaps with the time (`morgen 14:00`): then the time, or what follows."""
    try:
        typed = parse_when(text, ctx.now, ctx.zone, expect="day")
    except Unreadable as refused:
        return [_refusal(refused, "day")]
    if typed.day is None:
        return [Reply(_("Which day? Type the day too, like morgen 14:00, or tap a day."))]
    data["date"] = typed.day.isoformat()
    if typed.clock is None:
        await ctx.save_state(FLOW_ID, "time", token, data)
        return [Reply(_("What time? (like 14:00)"))]
    return await _set_moment(ctx, typed, data, token)


async def _typed_time(ctx: FlowContext, text: str, data: dict[str, Any], token: str) -> list[Reply]:
    """The time (a day typed with it replaces the day chosen before)."""
    try:
        typed = parse_when(text, ctx.now, ctx.zone, expect="time")
    except Unreadable as refused:
        return [_refusal(refused, "time")]
    if typed.clock is None:
        return [Reply(_("I did not understand that time. Type it like 14:00."))]
    day = typed.day or date.fromisoformat(data["date"])
    return await _set_moment(ctx, DayTime(day, typed.clock), data, token)


async def _set_moment(
    ctx: FlowContext, typed: DayTime, data: dict[str, Any], token: str
) -> list[Reply]:
    assert typed.day is not None and typed.clock is not None
    moment = local_moment(typed.day, typed.clock, ctx.zone)
    if moment <= ctx.now:
        return [Reply(_("That moment has passed. Type a later time, or /appointment again."))]
    data["date"] = typed.day.isoformat()
    data["at"] = moment.isoformat()
    if data.get("mode") == MOVE:
        return await _summary(ctx, data, token)
    await ctx.save_state(FLOW_ID, "with", token, data)
    return [Reply(_("With which organisation or person?"))]


def _refusal(refused: Unreadable, expected: str) -> Reply:
    """Why a typed day or time was not taken, and what to type instead."""
    day = refused.day
    if refused.reason == NO_SUCH_DAY:
        return Reply(_("I did not understand that date: that day does not exist."))
    if refused.reason == WRONG_WEEKDAY and day is not None:
        language = current_language()
        return Reply(
            # Translators: {date} is like "10 December", {weekday} like "Thursday"
            _("I did not understand that date: {date} is a {weekday}. Type it again.").format(
                date=format_date(day, "d MMMM", language),
                weekday=format_date(day, "EEEE", language),
            )
        )
    if refused.reason == PASSED:
        return Reply(_("That day has passed. Type a later day."))
    if refused.reason == TOO_FAR:
        return Reply(_("That is more than two years ahead. Type an earlier day."))
    if expected == "time" or refused.reason == BAD_TIME:
        return Reply(_("I did not understand that time. Type it like 14:00."))
    return Reply(
        _(
            "I did not understand that date. Type it like 7-12, morgen 14:00 or do 10:30, "
            "or tap a day."
        )
    )


# -- the note and the summary ------------------------------------------------------------------


async def _ask_note(ctx: FlowContext, data: dict[str, Any], token: str) -> list[Reply]:
    await ctx.save_state(FLOW_ID, "note", token, data)
    participant = await people.participant_by_id(ctx.session, int(data["participant_id"]))
    name = participant.name if participant else "?"
    return [
        Reply(
            # Translators: the note is shown to the participant with the appointment and its
            # reminders, instead of a fixed line
            _("Type a note for {name}, for example: Bring your ID card.").format(name=name),
            [[Choice(choice_id(FLOW_ID, token, "nonote"), _("Skip"))]],
        )
    ]


async def _summary(ctx: FlowContext, data: dict[str, Any], token: str) -> list[Reply]:
    await ctx.save_state(FLOW_ID, "confirm", token, data)
    zone = ctx.zone
    participant = await people.participant_by_id(ctx.session, int(data["participant_id"]))
    name = participant.name if participant else "?"
    about = participant.id if participant else None
    at = datetime.fromisoformat(data["at"])
    confirm = [
        Choice(choice_id(FLOW_ID, token, "confirm"), _("✅ Confirm")),
        Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel")),
    ]
    if data.get("mode") == MOVE:
        appointment = await ctx.session.get(Appointment, int(data["appointment_id"]))
        if appointment is None:
            return [not_allowed()]
        text = _(
            "Move this appointment?\n{name}\nWith: {organisation}\nFrom: {old}\nTo: {new}"
        ).format(
            name=name,
            organisation=appointment.with_org,
            old=when(appointment.at, zone),
            new=when(at, zone),
        )
        return [Reply(text, [confirm], about=about)]
    text = _("Plan this appointment?\n{name}\n{when}\nWith: {org}\nWhere: {place}").format(
        name=name, when=when(at, zone), org=data["with"], place=data.get("location") or "—"
    )
    note = data.get("note")
    if note:
        text += "\n" + _("Note: {note}").format(note=note)
    label = _("📝 Change the note") if note else _("📝 Add a note")
    return [Reply(text, [confirm, [Choice(choice_id(FLOW_ID, token, "note"), label)]], about=about)]


# -- doing it --------------------------------------------------------------------------------


async def _planned(ctx: FlowContext, data: dict[str, Any]) -> list[Reply]:
    staff = ctx.staff
    assert staff is not None
    await ctx.clear_state()
    participant = await people.participant_by_id(ctx.session, int(data["participant_id"]))
    if participant is None or not may_see(staff, participant):
        return [not_allowed()]
    made = await appointments.create(
        ctx.session,
        participant.id,
        at=datetime.fromisoformat(data["at"]),
        with_org=data["with"],
        location=data.get("location"),
        note=data.get("note"),
        offsets=ctx.settings.reminder_offsets,
        zone=ctx.zone,
        now=ctx.now,
    )
    told = await appointments.tell_participant(
        ctx.session, made.appointment, appointments.Change.PLANNED, zone=ctx.zone, now=ctx.now
    )
    text = _("Planned: {name}, {when}. Reminders: {count}.").format(
        name=participant.name,
        when=when(made.appointment.at, ctx.zone),
        count=len(made.reminder_times),
    )
    return await _done(ctx, participant, made.appointment, text, told)


async def _moved(ctx: FlowContext, data: dict[str, Any], token: str) -> list[Reply]:
    found = await _appointment(ctx, str(data.get("appointment_id", "")))
    if isinstance(found, Reply):
        await ctx.clear_state()
        return [found]
    appointment, participant = found
    made = await appointments.move(
        ctx.session,
        appointment.id,
        at=datetime.fromisoformat(data["at"]),
        offsets=ctx.settings.reminder_offsets,
        now=ctx.now,
        zone=ctx.zone,
    )
    told = await appointments.tell_participant(
        ctx.session, appointment, appointments.Change.MOVED, zone=ctx.zone, now=ctx.now
    )
    text = _("Moved: {name}, {when}. Reminders: {count}.").format(
        name=participant.name, when=when(appointment.at, ctx.zone), count=len(made.reminder_times)
    )
    return await _done(ctx, participant, appointment, text, told, token)


async def _done(
    ctx: FlowContext,
    participant: Participant,
    appointment: Appointment,
    text: str,
    told: appointments.Told,
    token: str | None = None,
) -> list[Reply]:
    """What the officer reads after a plan or move, with *Move* and *Cancel* under it."""
    token = token or new_token()
    data = {"mode": LIST, "participant_id": participant.id}
    await ctx.save_state(FLOW_ID, "list", token, data)
    return [
        Reply(
            text + "\n" + appointments.told_line(participant.name, told),
            _change_choices(token, appointment),
            about=participant.id,
        )
    ]


async def _start_move(ctx: FlowContext, raw_id: str, token: str) -> list[Reply]:
    found = await _appointment(ctx, raw_id)
    if isinstance(found, Reply):
        return [found]
    appointment, participant = found
    data = {"mode": MOVE, "participant_id": participant.id, "appointment_id": appointment.id}
    await ctx.save_state(FLOW_ID, "date", token, data)
    return [
        Reply(
            _(
                "Move the appointment of {name} with {organisation} ({when}). To which day? "
                "Tap a day, or type it like morgen 14:00 or do 10:30."
            ).format(
                name=participant.name,
                organisation=appointment.with_org,
                when=when(appointment.at, ctx.zone),
            ),
            _day_choices(ctx, token),
            about=participant.id,
        )
    ]


async def _ask_cancel(ctx: FlowContext, raw_id: str, token: str) -> list[Reply]:
    found = await _appointment(ctx, raw_id)
    if isinstance(found, Reply):
        return [found]
    appointment, participant = found
    data = {"mode": LIST, "participant_id": participant.id, "appointment_id": appointment.id}
    await ctx.save_state(FLOW_ID, "cancel", token, data)
    return [
        Reply(
            _("Cancel this appointment?\n{name}\n{when}\nWith: {organisation}").format(
                name=participant.name,
                when=when(appointment.at, ctx.zone),
                organisation=appointment.with_org,
            ),
            [
                [Choice(choice_id(FLOW_ID, token, "cxy"), _("❌ Yes, cancel it"))],
                [Choice(choice_id(FLOW_ID, token, "keep"), _("No, keep it"))],
            ],
            about=participant.id,
        )
    ]


async def _cancelled(ctx: FlowContext, data: dict[str, Any], token: str) -> list[Reply]:
    found = await _appointment(ctx, str(data.get("appointment_id", "")))
    if isinstance(found, Reply):
        await ctx.clear_state()
        return [found]
    appointment, participant = found
    await appointments.cancel(ctx.session, appointment.id)
    told = await appointments.tell_participant(
        ctx.session, appointment, appointments.Change.CANCELLED, zone=ctx.zone, now=ctx.now
    )
    await ctx.save_state(FLOW_ID, "list", token, {"mode": LIST, "participant_id": participant.id})
    text = _("Cancelled: {name}, {when}.").format(
        name=participant.name, when=when(appointment.at, ctx.zone)
    )
    return [
        Reply(text + "\n" + appointments.told_line(participant.name, told), about=participant.id)
    ]


async def _appointment(ctx: FlowContext, raw_id: str) -> tuple[Appointment, Participant] | Reply:
    """The appointment of a button, if the staff member may see its participant and it
    still stands; else the answer to give."""
    staff = ctx.staff
    assert staff is not None
    appointment = await ctx.session.get(Appointment, int(raw_id)) if raw_id.isdigit() else None
    participant = (
        await people.participant_by_id(ctx.session, appointment.participant_id)
        if appointment is not None
        else None
    )
    if appointment is None or participant is None or not may_see(staff, participant):
        return not_allowed()
    if appointment.status != AppointmentStatus.SCHEDULED or appointment.at <= ctx.now:
        return Reply(_("This appointment has already passed or was cancelled."))
    return appointment, participant


# -- the list --------------------------------------------------------------------------------


async def _list(ctx: FlowContext, participant: Participant, token: str) -> list[Reply]:
    await ctx.save_state(FLOW_ID, "list", token, {"mode": LIST, "participant_id": participant.id})
    upcoming = await appointments_db.upcoming(ctx.session, participant.id, ctx.now)
    if not upcoming:
        return [
            Reply(
                _("No appointments planned for {name}. Plan one with /appointment.").format(
                    name=participant.name
                ),
                about=participant.id,
            )
        ]
    head = Reply(
        _("Coming appointments of {name}:").format(name=participant.name), about=participant.id
    )
    return [
        head,
        *(
            Reply(
                _staff_view(ctx, appointment),
                _change_choices(token, appointment),
                about=participant.id,
            )
            for appointment in upcoming[:SHOWN]
        ),
    ]


def _staff_view(ctx: FlowContext, appointment: Appointment) -> str:
    """One appointment for the officer: as the participant reads it, and their answer."""
    text = appointments.describe(appointment, ctx.zone, ctx.now)
    if appointment.confirmation == Confirmation.CONFIRMED:
        return text + "\n" + _("Answer: will be there")
    if appointment.confirmation == Confirmation.DECLINED:
        reason = appointment.decline_reason
        if not reason:
            return text + "\n" + _("Answer: cannot make it")
        if len(reason) > REASON_SHOWN:
            reason = reason[:REASON_SHOWN] + "…"
        return text + "\n" + _("Answer: cannot make it (“{reason}”)").format(reason=reason)
    return text + "\n" + _("Answer: not yet")


def _change_choices(token: str, appointment: Appointment) -> list[list[Choice]]:
    return [
        [
            Choice(choice_id(FLOW_ID, token, f"mv.{appointment.id}"), _("🕑 Move")),
            Choice(choice_id(FLOW_ID, token, f"cx.{appointment.id}"), _("❌ Cancel appointment")),
        ]
    ]


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.STAFF,
    commands=(
        Command("appointment", lambda: _("Plan an appointment")),
        Command("appointments", lambda: _("A participant's appointments"), start=show),
    ),
    start=start,
    on_choice=choose,
    on_text=answer,
    state_token=True,
    stores=(Appointment,),
)
