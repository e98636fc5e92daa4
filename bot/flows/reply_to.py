"""*Reply* under a copy of a participant's message, and *Cancel* under the reply prompt
(the buttons under an alert are bot.flows.alert_actions)."""

from __future__ import annotations

from bot.conversation.choices import ChoiceId
from bot.conversation.flow import Audience, Flow, FlowContext
from bot.conversation.replies import Reply
from bot.i18n import _
from bot.services import relay
from bot.services.access import may_see, not_allowed
from db import people


async def press(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """*Reply* starts an answer to the participant; *Cancel* drops it."""
    staff = ctx.staff
    assert staff is not None
    participant = (
        await people.participant_by_id(ctx.session, int(choice.token))
        if choice.token.isdigit()
        else None
    )
    if participant is None or not may_see(staff, participant):
        return [not_allowed()]
    if choice.value == "cancel":
        await relay.forget(ctx.session, staff)
        return [Reply(_("Cancelled. Nothing was sent."))]
    chat = ctx.address.chat if ctx.address is not None else staff.telegram_id
    await relay.start(ctx.session, staff, participant, chat, ctx.now)
    return [relay.prompt(participant)]


FLOW = Flow(id=relay.FLOW_ID, audience=Audience.STAFF, on_choice=press)
