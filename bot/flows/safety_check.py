"""The buttons under the direct question about self-harm (bot.services.safety)."""

from __future__ import annotations

from bot.conversation.choices import ChoiceId
from bot.conversation.flow import Audience, Flow, FlowContext
from bot.conversation.replies import Reply
from bot.flows import guide
from bot.services import safety


async def answer(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """Yes, No or I don't know."""
    assert ctx.participant is not None
    if not choice.token.isdigit():
        return [guide.stale_button_reply()]
    replies = await safety.answer(ctx.tx, ctx.participant, int(choice.token), choice.value)
    return [guide.stale_button_reply()] if replies is None else replies


FLOW = Flow(
    id=safety.FLOW_ID, audience=Audience.PARTICIPANT, on_choice=answer, answered_in_place=True
)
