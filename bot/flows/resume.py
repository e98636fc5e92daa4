"""*▶️ Start again* under the pause confirmation: automatic messages resume with one tap
(sending /start does the same). The button needs no flow state, so it still works days
later, after other conversations."""

from __future__ import annotations

from bot.conversation.choices import ChoiceId, choice_id
from bot.conversation.flow import Audience, Flow, FlowContext
from bot.conversation.replies import Choice, Keyboard, Reply
from bot.flows import guide
from bot.i18n import _
from db import audit
from db.enums import ParticipantStatus

FLOW_ID = "rs"


def start_again_button(participant_id: int) -> list[list[Choice]]:
    """The button under "Paused"."""
    return [[Choice(choice_id(FLOW_ID, str(participant_id), "go"), _("▶️ Start again"))]]


async def resume(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """Back to active, if this participant is paused."""
    participant = ctx.participant
    if participant is None or choice.token != str(participant.id):
        return [guide.stale_button_reply()]
    if participant.status != ParticipantStatus.PAUSED:
        return [Reply(_("Already noted. 👍"), keyboard=Keyboard.PARTICIPANT)]
    participant.status = ParticipantStatus.ACTIVE
    audit.add(
        ctx.session,
        "participant_resumed",
        actor="participant",
        actor_telegram_id=participant.telegram_id,
        participant_id=participant.id,
        at=ctx.now,
    )
    return [
        Reply(
            _("Welcome back! Reminders and check-ins are on again."),
            keyboard=Keyboard.PARTICIPANT,
        )
    ]


FLOW = Flow(id=FLOW_ID, audience=Audience.PARTICIPANT, on_choice=resume)
