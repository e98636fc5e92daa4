"""The officer's answer to *Did they come?* after an appointment (bot.services.attendance):
the button carries the appointment's id, and only staff who may see the participant can
answer."""

from __future__ import annotations

from bot.conversation.choices import ChoiceId
from bot.conversation.flow import Audience, Flow, FlowContext
from bot.conversation.replies import Reply
from bot.i18n import _
from bot.services import attendance
from bot.services.access import may_see, not_allowed
from bot.services.appointments import AppointmentError
from db import people
from db.models import Appointment


async def answer(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """*Attended*, *No-show* or *Rescheduled* under the question."""
    staff = ctx.staff
    assert staff is not None
    appointment = (
        await ctx.session.get(Appointment, int(choice.token)) if choice.token.isdigit() else None
    )
    participant = (
        await people.participant_by_id(ctx.session, appointment.participant_id)
        if appointment is not None
        else None
    )
    if appointment is None or participant is None or not may_see(staff, participant):
        return [not_allowed()]
    try:
        await attendance.record(
            ctx.session,
            appointment.id,
            choice.value,
            now=ctx.now,
            actor="staff",
            actor_telegram_id=staff.telegram_id,
        )
    except AppointmentError:
        return [Reply(_("This appointment was cancelled or changed; nothing was noted."))]
    return [
        Reply(
            _("Noted for {name}: {outcome}").format(
                name=participant.name, outcome=attendance.outcome_label(choice.value)
            ),
            about=participant.id,
        )
    ]


FLOW = Flow(
    id=attendance.FLOW_ID,
    audience=Audience.STAFF,
    on_choice=answer,
)
