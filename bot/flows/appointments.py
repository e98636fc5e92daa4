"""The participant's appointments: the upcoming ones, *I'll be there* / *I can't make it*
(with an optional reason), and the calendar file. After one answer the other button stays,
so *I can't make it* can be undone (the officer is told). The same buttons come with every
reminder and with the message about a planned or moved appointment; their token is the
appointment's id, so they work as long as it stands."""

from __future__ import annotations

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.events import InboundEvent
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Keyboard, Reply
from bot.flows import guide
from bot.i18n import _
from bot.services import appointments
from bot.services.appointments import FLOW_ID, answer_choices, calendar_file, describe, status_line
from db import appointments as appointments_db
from db.enums import AppointmentStatus, Confirmation
from db.models import Appointment, Participant, Reminder


async def list_upcoming(ctx: FlowContext, args: str) -> list[Reply]:
    """/appointments: the upcoming ones, each with its buttons."""
    assert ctx.participant is not None
    now, zone = ctx.now, ctx.zone
    upcoming = await appointments_db.upcoming(ctx.session, ctx.participant.id, now)
    if not upcoming:
        return [Reply(_("You have no appointments planned."), keyboard=Keyboard.PARTICIPANT)]
    replies = []
    for appointment in upcoming[:10]:
        status = status_line(appointment)
        text = describe(appointment, zone, now) + (f"\n{status}" if status else "")
        replies.append(Reply(text, answer_choices(appointment)))
    return replies


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """An appointment button: confirm, decline (either undoes the other), skip the reason,
    or the calendar file."""
    participant = ctx.participant
    assert participant is not None
    appointment = await _own_appointment(ctx, participant, choice.token)
    if appointment is None:
        return [guide.stale_button_reply()]
    gone = appointment.status != AppointmentStatus.SCHEDULED or appointment.at <= ctx.now
    if choice.value == "ics":
        if appointment.status != AppointmentStatus.SCHEDULED:
            return [Reply(_("This appointment was cancelled."))]
        return [
            Reply(
                _("Here is your appointment for your calendar."),
                attachment=calendar_file(appointment),
            )
        ]
    if gone:
        return [Reply(_("This appointment has already passed or was cancelled."))]
    if choice.value == "yes":
        if appointment.confirmation == Confirmation.CONFIRMED:
            return [Reply(_("Great, see you there! 👍"))]
        changed = appointment.confirmation == Confirmation.DECLINED
        await _leave_reason_step(ctx, appointment)
        await appointments.attend(ctx.tx, participant, appointment)
        if changed:
            return [
                Reply(
                    _("Good that you can make it after all! I told your officer. 👍"),
                    keyboard=Keyboard.PARTICIPANT,
                )
            ]
        return [Reply(_("Great, see you there! 👍"))]
    if choice.value == "no":
        if appointment.confirmation == Confirmation.DECLINED:
            return [Reply(_("Already noted. 👍"))]
        alert = await appointments.decline(ctx.tx, participant, appointment)
        await ctx.save_state(
            FLOW_ID, "reason", new_token(), {"appointment_id": appointment.id, "alert_id": alert.id}
        )
        skip = Choice(choice_id(FLOW_ID, str(appointment.id), "noreason"), _("Skip"))
        return [
            Reply(
                _(
                    "Thanks for letting me know. I will tell your officer. Do you want to say "
                    "why? Write it here, or tap Skip."
                ),
                [[skip]],
            )
        ]
    if choice.value == "noreason":
        alert_id = await _leave_reason_step(ctx, appointment)
        if alert_id is not None:
            await appointments.give_reason(ctx.tx, participant, appointment, alert_id, None)
        return [
            Reply(
                _("Okay. Your officer will contact you about a new time."),
                keyboard=Keyboard.PARTICIPANT,
            )
        ]
    return [guide.stale_button_reply()]


async def reason(ctx: FlowContext, event: InboundEvent) -> list[Reply] | None:
    """The optional reason after *I can't make it*; None when none is expected."""
    participant = ctx.participant
    assert participant is not None
    state = await ctx.state()
    if event.kind == "edit" or state is None or state.step != "reason" or not event.text:
        return None
    data = state.data or {}
    appointment = await _own_appointment(ctx, participant, str(data.get("appointment_id", "")))
    await ctx.clear_state()
    if appointment is None:
        return None
    alert_id = data.get("alert_id")
    if isinstance(alert_id, int):
        await appointments.give_reason(ctx.tx, participant, appointment, alert_id, event.text)
    elif appointment.confirmation == Confirmation.DECLINED:  # a state saved before alert ids
        appointment.decline_reason = event.text[: appointments.MAX_REASON]
    return [
        Reply(
            _("Thank you. Your officer will contact you about a new time."),
            keyboard=Keyboard.PARTICIPANT,
        )
    ]


async def _leave_reason_step(ctx: FlowContext, appointment: Appointment) -> int | None:
    """Stop waiting for a reason about this appointment; the alert that waited for it."""
    state = await ctx.state()
    if state is None or state.flow != FLOW_ID or state.step != "reason":
        return None
    data = state.data or {}
    if data.get("appointment_id") != appointment.id:
        return None
    await ctx.clear_state()
    alert_id = data.get("alert_id")
    return alert_id if isinstance(alert_id, int) else None


async def _own_appointment(
    ctx: FlowContext, participant: Participant, raw_id: str
) -> Appointment | None:
    """The appointment with that id, only if it belongs to this participant."""
    if not raw_id.isdigit():
        return None
    appointment = await ctx.session.get(Appointment, int(raw_id))
    if appointment is None or appointment.participant_id != participant.id:
        return None
    return appointment


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.PARTICIPANT,
    commands=(Command("appointments", lambda: _("Your appointments")),),
    keyboard=lambda: _("📅 My appointments"),
    start=list_upcoming,
    on_choice=choose,
    on_text=reason,
    stores=(Appointment, Reminder),
)
