"""The buttons under an alert: *Reply* (the officer's next message goes to the
participant), *Acknowledge* and *Resolved* (a help request's participant is told)."""

from __future__ import annotations

from bot.conversation import outbox
from bot.conversation.choices import ChoiceId
from bot.conversation.flow import Audience, Flow, FlowContext
from bot.conversation.replies import Reply
from bot.i18n import _, use_language
from bot.services import relay, staff_alerts, threads
from bot.services.access import may_see, not_allowed
from bot.services.labels import help_reference
from bot.services.staff_alerts import FLOW_ID
from db import people
from db.enums import AlertStatus, HelpStatus
from db.models import Alert, HelpRequest, Participant


async def act(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """*Reply*, *Acknowledge* or *Resolved* on an alert."""
    staff, session, now = ctx.staff, ctx.session, ctx.now
    assert staff is not None
    alert = await session.get(Alert, int(choice.token)) if choice.token.isdigit() else None
    participant = (
        await people.participant_by_id(session, alert.participant_id)
        if alert is not None and alert.participant_id is not None
        else None
    )
    if alert is None or participant is None or not may_see(staff, participant):
        return [not_allowed()]
    if choice.value == "reply":
        chat = ctx.address.chat if ctx.address is not None else staff.telegram_id
        await relay.start(ctx.session, staff, participant, chat, now)
        return [relay.prompt(participant)]
    request = (
        await session.get(HelpRequest, alert.help_request_id) if alert.help_request_id else None
    )
    if choice.value == "ack":
        if alert.status != AlertStatus.OPEN:
            return []  # pressed twice, or someone else was first: the alert shows who
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at, alert.acknowledged_by = now, staff.id
        if request is not None and request.status == HelpStatus.OPEN:
            request.status, request.acknowledged_at, request.handled_by = (
                HelpStatus.ACKNOWLEDGED,
                now,
                staff.id,
            )
            _tell_participant(ctx, participant, request)
        await threads.refresh_title(ctx.tx, participant)
        await staff_alerts.show_handled(ctx.tx, alert, participant, request, staff)
        return [
            Reply(_("Acknowledged: {name}.").format(name=participant.name), about=participant.id)
        ]
    if choice.value == "done":
        if alert.status == AlertStatus.RESOLVED:
            return []
        alert.status = AlertStatus.RESOLVED
        alert.acknowledged_at = alert.acknowledged_at or now
        alert.acknowledged_by = alert.acknowledged_by or staff.id
        if request is not None and request.status != HelpStatus.RESOLVED:
            request.status, request.resolved_at, request.handled_by = (
                HelpStatus.RESOLVED,
                now,
                staff.id,
            )
            _tell_participant(ctx, participant, request)
        await threads.refresh_title(ctx.tx, participant)
        await staff_alerts.show_handled(ctx.tx, alert, participant, request, staff)
        return [Reply(_("Resolved: {name}.").format(name=participant.name), about=participant.id)]
    return [not_allowed()]


def status_change_reply(request: HelpRequest) -> Reply:
    """What the participant hears when the officer acknowledges or resolves a request."""
    reference = help_reference(request.id)
    if request.status == HelpStatus.RESOLVED:
        return Reply(_("Your request {reference} is resolved. ✅").format(reference=reference))
    return Reply(
        _("Your officer has picked up your request {reference}.").format(reference=reference)
    )


def _tell_participant(ctx: FlowContext, participant: Participant, request: HelpRequest) -> None:
    with use_language(participant.language):
        notice = status_change_reply(request)
    outbox.to_participant(ctx.session, participant, [notice], now=ctx.now)


FLOW = Flow(id=FLOW_ID, audience=Audience.STAFF, on_choice=act)
