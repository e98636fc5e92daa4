"""The safety answer to a crisis, and asking directly when the signal is weak: "Are you
thinking of harming yourself?"

Suicide-prevention guidance is to ask plainly; asking does not put the idea in anyone's
head. When triage sees hopelessness or an ambiguous self-harm signal below the crisis
threshold, the participant gets this question with three buttons. *Yes* and *I don't
know* take the crisis path at once (the 113/112 answer and a critical alert); *No* is
thanked and kept; no answer within ASK_WAIT sends the officer a high alert (queued when
asking, cancelled by an answer). The question is one Alert row of kind safety_check: its
id is the token of the buttons, its categories hold the answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.choices import choice_id
from bot.conversation.replies import Choice, Reply
from bot.i18n import _, current_language, use_language
from bot.runtime import Tx
from bot.services import alerts, staff_alerts, threads
from db import alerts as alerts_db
from db import outbox as outbox_db
from db.enums import AlertKind, AlertStatus
from db.models import Alert, Participant

FLOW_ID = "sc"
FLOOD_WINDOW = timedelta(minutes=15)  # one safety answer, one question, per quarter hour
ASK_WAIT = timedelta(minutes=10)
ANSWERS = ("yes", "no", "unsure")
ASKED = "asked"
NOT_SPOKEN_BY_113 = ("ar", "tr", "pl")  # 113 Zelfmoordpreventie answers in Dutch and English
# After a crisis alert nobody resolved, no scheduled check-in or broadcast for this long:
# a cheerful "How are you doing?" an hour after "I want to die" reads as not listening.
QUIET_AFTER_CRISIS = timedelta(hours=12)


class HeldBack(StrEnum):
    """What was not sent to a participant in crisis."""

    CHECKIN = "checkin"
    BROADCAST = "broadcast"


async def in_crisis(session: AsyncSession, now: datetime) -> set[int]:
    """Participants who get no scheduled check-in or broadcast now (QUIET_AFTER_CRISIS)."""
    return await alerts_db.open_crisis(session, now - QUIET_AFTER_CRISIS)


async def tell_held_back(
    session: AsyncSession, participant: Participant, what: HeldBack, now: datetime
) -> None:
    """The officer sees what was held back, so nothing is missed silently."""
    for member in await staff_alerts.responsible_staff(session, participant):
        with use_language(member.language):
            if what is HeldBack.CHECKIN:
                text = _(
                    "⏸ The check-in question was not sent to {name}: there is a crisis alert "
                    "from the last 12 hours that is not resolved."
                )
            else:
                text = _(
                    "⏸ The message from the municipality was not sent to {name}: there is a "
                    "crisis alert from the last 12 hours that is not resolved."
                )
            reply = Reply(text.format(name=participant.name), about=participant.id)
        outbox.to_staff(
            session,
            member,
            [reply],
            now=now,
            kind="held_back",
            priority=outbox.PRIORITY_PROMPT,
            about=participant.id,
        )


def safety_reply(categories: tuple[str, ...], *, repeat: bool = False) -> Reply:
    """The answer to a crisis: caring, short, with 113 and 112; a shorter one when the
    participant wrote about it minutes ago (never just "your message is saved")."""
    if repeat:
        text = _(
            "I am still here for you. Talk to someone now: 113 or 0800-0113 (free, day and "
            "night). In danger? Call 112."
        )
    elif "self_harm" in categories:
        text = _(
            "I am worried about you, and I am glad you wrote this. You are not alone.\n"
            "Talk to someone now: call 113 or 0800-0113 (free, day and night).\n"
            "In danger right now? Call 112.\n"
            "Your officer has been told and will contact you."
        )
    else:
        text = _(
            "Please keep yourself and others safe. If someone is in danger, call 112 now.\n"
            "Need to talk to someone? Call 113 or 0800-0113 (free, day and night).\n"
            "Your officer has been told and will contact you."
        )
    if current_language() in NOT_SPOKEN_BY_113:
        text += "\n" + _("113 answers in Dutch and English.")
    return Reply(text)


def question(alert_id: int) -> Reply:
    """The direct question, with its three buttons."""
    token = str(alert_id)
    return Reply(
        _(
            "I read your message and I want to ask you something directly, because I care "
            "about how you are.\nAre you thinking about harming yourself or ending your life?"
        ),
        [
            [
                Choice(choice_id(FLOW_ID, token, "yes"), _("Yes")),
                Choice(choice_id(FLOW_ID, token, "no"), _("No")),
                Choice(choice_id(FLOW_ID, token, "unsure"), _("I don't know")),
            ]
        ],
    )


async def ask(
    tx: Tx, participant: Participant, *, text: str, message_id: int | None, flagged: bool
) -> list[Reply]:
    """Ask the question (at most once per quarter of an hour). When the message was not
    flagged, the officer hears about it if no answer comes; a flagged one already reached
    them."""
    since = tx.now - FLOOD_WINDOW
    if await alerts_db.recent_count(tx.session, participant.id, AlertKind.SAFETY_CHECK, since):
        return []
    alert = await alerts.raise_alert(
        tx,
        participant,
        kind=AlertKind.SAFETY_CHECK,
        severity="high",
        categories=[ASKED],
        excerpt=text,
        message_id=message_id,
        deliver=False,
    )
    if not flagged:
        await staff_alerts.enqueue(tx, alert, participant, delay=ASK_WAIT)
    return [question(alert.id)]


async def answer(tx: Tx, participant: Participant, alert_id: int, value: str) -> list[Reply] | None:
    """A button under the question: once; Yes or I don't know is a crisis. None when the
    button is not one of this participant's questions."""
    alert = await tx.session.get(Alert, alert_id)
    if (
        alert is None
        or alert.participant_id != participant.id
        or alert.kind != AlertKind.SAFETY_CHECK
        or value not in ANSWERS
    ):
        return None
    if (alert.categories or [ASKED]) != [ASKED]:
        return [Reply(_("Already noted. 👍"))]
    await outbox_db.cancel_pending(tx.session, alert.id)
    alert.categories = [value]
    if value == "no":
        alert.status = AlertStatus.RESOLVED
        await threads.refresh_title(tx, participant)
        return [
            Reply(
                _(
                    "Thank you for telling me. If that changes, write here or call 113 "
                    "(free, day and night)."
                )
            )
        ]
    alert.severity = "critical"
    await staff_alerts.enqueue(tx, alert, participant)
    await threads.refresh_title(tx, participant)
    participant.last_safety_at = tx.now
    reply = safety_reply(("self_harm",))
    outbox.to_participant(
        tx.session, participant, [reply], now=tx.now, priority=outbox.PRIORITY_SAFETY
    )
    return []
