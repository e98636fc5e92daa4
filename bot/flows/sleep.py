"""How are you sleeping? One question a week (Sunday evening), three buttons.

Sleep is often the first thing to suffer when things go wrong (worry, money, using
again): a light weekly sign for the officer that is not another check-in. The answer is
stored once per week (the week is the token its buttons carry, so no flow state is
needed and a check-in in progress is never interrupted); the officer sees the press like
every other one (in forum mode in the participant's topic) and in the export.
"""

from __future__ import annotations

from datetime import time

from bot.config import CheckinSchedule, Settings
from bot.conversation import outbox
from bot.conversation.choices import ChoiceId, choice_id
from bot.conversation.flow import Audience, Flow, FlowContext, Prompt
from bot.conversation.replies import Choice, Reply
from bot.flows import guide
from bot.i18n import _, use_language
from bot.runtime import Tx
from db import answers
from db import checkins as checkins_db
from db.models import Answer

FLOW_ID = "sl"
SUNDAY_EVENING = CheckinSchedule(weekdays=(6,), at=time(19, 0))
VALUES = ("well", "so-so", "badly")


def _week(tx: Tx) -> str:
    """The week a question belongs to, e.g. 2026w49 (the token its buttons carry)."""
    year, week, _day = tx.now.astimezone(tx.settings.tz).isocalendar()
    return f"{year}w{week:02d}"


def question(week: str) -> Reply:
    """The weekly question with its buttons."""
    labels = {"well": _("😴 Well"), "so-so": _("😐 So-so"), "badly": _("😣 Badly")}
    return Reply(
        _("How have you been sleeping this week?"),
        [[Choice(choice_id(FLOW_ID, week, value), labels[value]) for value in VALUES]],
    )


async def send(tx: Tx) -> int:
    """Ask every active participant; returns how many were asked."""
    week, asked = _week(tx), 0
    for participant in await checkins_db.active_participants(tx.session):
        with use_language(participant.language):
            reply = question(week)
        asked += outbox.to_participant(
            tx.session,
            participant,
            [reply],
            now=tx.now,
            kind="prompt",
            priority=outbox.PRIORITY_PROMPT,
        )
    return asked


async def answer(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """A button under the question: kept once per week."""
    participant = ctx.participant
    assert participant is not None
    if choice.value not in VALUES:
        return [guide.stale_button_reply()]
    if await answers.answered(ctx.session, participant.id, FLOW_ID, choice.token):
        return [Reply(_("Already noted. 👍"))]
    answers.add(ctx.session, participant.id, FLOW_ID, choice.token, choice.value, ctx.now)
    if choice.value == "badly":
        return [
            Reply(_("Thank you for telling me. Your officer sees this. You can always write here."))
        ]
    return [Reply(_("Thanks, noted. Sleep well! 🌙"))]


def _schedule(settings: Settings) -> CheckinSchedule:
    return SUNDAY_EVENING


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.PARTICIPANT,
    on_choice=answer,
    prompt=Prompt(schedule=_schedule, send=send, slot_key="sleep_prompt_slot"),
    stores=(Answer,),
)
