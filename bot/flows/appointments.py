"""The participant's appointments: the upcoming ones, *I'll be there* / *I can't make it*
(with an optional reason), and the calendar file. The same buttons come with every
reminder; their token is the appointment's id, so they work as long as it stands."""

from __future__ import annotations

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.events import InboundEvent
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Keyboard, Reply
from bot.flows import guide
from bot.i18n import _
from bot.services import alerts
from bot.services.appointments import (
    FLOW_ID,
    MAX_FIELD,
    calendar_file,
    confirm_choices,
    describe,
)
from db import appointments as appointments_db
from db.enums import AlertKind, AppointmentStatus, Confirmation
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
        choices = (
            confirm_choices(appointment) if appointment.confirmation == Confirmation.PENDING else []
        )
        status = {
            "confirmed": _("You said you will be there. 👍"),
            "declined": _("You said you cannot make it."),
        }.get(appointment.confirmation)
        text = describe(appointment, zone, now) + (f"\n{status}" if status else "")
        calendar = Choice(choice_id(FLOW_ID, str(appointment.id), "ics"), _("📆 Add to calendar"))
        replies.append(Reply(text, [*choices, [calendar]]))
    return replies


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """An appointment button: confirm, decline, or the calendar file."""
    participant = ctx.participant
    assert participant is not None
    appointment = await _own_appointment(ctx, participant, choice.token)
    if appointment is None:
        return [guide.stale_button_reply()]
    if choice.value == "ics":
        return [
            Reply(
                _("Here is your appointment for your calendar."),
                attachment=calendar_file(appointment),
            )
        ]
    if appointment.status != AppointmentStatus.SCHEDULED or appointment.at <= ctx.now:
        return [Reply(_("This appointment has already passed or was cancelled."))]
    if choice.value == "yes":
        appointment.confirmation = Confirmation.CONFIRMED
        return [Reply(_("Great, see you there! 👍"))]
    if choice.value == "no":
        if appointment.confirmation == Confirmation.DECLINED:
            return [Reply(_("Already noted. 👍"))]
        appointment.confirmation = Confirmation.DECLINED
        await alerts.raise_alert(
            ctx.tx,
            participant,
            kind=AlertKind.CANT_MAKE_IT,
            severity="medium",
            appointment_id=appointment.id,
        )
        await ctx.save_state(FLOW_ID, "reason", new_token(), {"appointment_id": appointment.id})
        skip = Choice(choice_id(FLOW_ID, str(appointment.id), "noreason"), _("Skip"))
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
        await ctx.clear_state()
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
    appointment = await _own_appointment(
        ctx, participant, str((state.data or {}).get("appointment_id", ""))
    )
    await ctx.clear_state()
    if appointment is None:
        return None
    appointment.decline_reason = event.text[: MAX_FIELD * 4]
    return [
        Reply(
            _("Thank you. Your officer will contact you about a new time."),
            keyboard=Keyboard.PARTICIPANT,
        )
    ]


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
