"""The buttons under an alert: *Reply* (the officer's next message goes to the
participant), *Acknowledge* and *Resolved* (a help request's participant is told)."""

from __future__ import annotations

from bot.conversation.choices import ChoiceId
from bot.conversation.flow import Audience, Flow, FlowContext
from bot.conversation.replies import Reply
from bot.i18n import _
from bot.services import alert_handling, relay
from bot.services.access import may_see, not_allowed
from bot.services.staff_alerts import FLOW_ID
from db import people
from db.models import Alert


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
    if choice.value == "ack":
        if not await alert_handling.acknowledge(ctx.tx, staff, alert, participant):
            return []  # pressed twice, or someone else was first: the alert shows who
        return [
            Reply(_("Acknowledged: {name}.").format(name=participant.name), about=participant.id)
        ]
    if choice.value == "done":
        if not await alert_handling.resolve(ctx.tx, staff, alert, participant):
            return []
        return [Reply(_("Resolved: {name}.").format(name=participant.name), about=participant.id)]
    return [not_allowed()]


FLOW = Flow(id=FLOW_ID, audience=Audience.STAFF, on_choice=act)
