"""Where a participant's free message goes: triage first, then the flow waiting for
input (check-in note, help-request description, reason for a missed appointment), and
otherwise a short acknowledgement.

A critical verdict gets the safety answer (113 and 112) before anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import alerts, appointments, checkin, freetext, helprequest, triage
from bot.i18n import _
from bot.replies import Reply
from db import alerts as alerts_db
from db import conversation
from db.models import Participant

FLOOD_WINDOW = timedelta(minutes=15)
FLOOD_ALERTS = 5  # flag alerts per participant per window that reach the officer at once


@dataclass
class Answer:
    """Replies to a free message; `urgent` ones jump the outbox queue."""

    urgent: list[Reply] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)


def safety_reply(categories: tuple[str, ...]) -> Reply:
    """The first answer to a crisis: caring, short, with 113 and 112."""
    if "self_harm" in categories:
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
    return Reply(text)


async def triage_message(
    session: AsyncSession,
    participant: Participant,
    *,
    text: str | None,
    message_id: int | None,
    now: datetime,
    kind: str = "flag",
) -> triage.Verdict | None:
    """Classify a participant's text; a flagged verdict becomes an alert with the matches."""
    if not text:
        return None
    verdict = triage.classify(text, participant.language)
    if not verdict.flagged:
        return verdict
    recent = await alerts_db.recent_count(session, participant.id, kind, now - FLOOD_WINDOW)
    await alerts.raise_alert(
        session,
        participant,
        kind=kind,
        severity=verdict.severity,
        categories=verdict.categories,
        matches=verdict.matches,
        excerpt=text,
        message_id=message_id,
        now=now,
        deliver=recent < FLOOD_ALERTS,
    )
    return verdict


async def _safety_reply_due(session: AsyncSession, participant: Participant, now: datetime) -> bool:
    """The safety answer once per quarter of an hour, not after every line of a crisis."""
    if participant.last_safety_at is not None and now - participant.last_safety_at < FLOOD_WINDOW:
        return False
    participant.last_safety_at = now
    return True


async def crisis_only(
    session: AsyncSession,
    participant: Participant,
    *,
    text: str | None,
    message_id: int | None,
    now: datetime,
) -> list[Reply]:
    """Triage a participant's text (an alert when flagged); the safety answer when it is a
    crisis. Also used when handling the update failed, so a crisis is never skipped."""
    verdict = await triage_message(session, participant, text=text, message_id=message_id, now=now)
    if verdict is None or verdict.severity != "critical":
        return []
    if not await _safety_reply_due(session, participant, now):
        return []
    return [safety_reply(verdict.categories)]


async def free_message(
    session: AsyncSession,
    participant: Participant,
    *,
    message_id: int | None,
    text: str | None,
    kind: str,
    media_file_id: str | None,
    now: datetime,
) -> Answer:
    """Triage, then route the message to the flow that waits for it."""
    answer = Answer(
        urgent=await crisis_only(session, participant, text=text, message_id=message_id, now=now)
    )
    state = await conversation.flow_state(session, participant.telegram_id or 0)
    routed: list[Reply] | None = None
    if state is not None and kind != "edit":
        if state.flow == checkin.FLOW:
            voice = media_file_id if kind == "voice" else None
            routed = await checkin.note(
                session, participant, text=text, voice_file_id=voice, now=now
            )
            if routed is None:
                question = await checkin.current_question(session, participant)
                if question is not None:
                    routed = [
                        Reply(_("I saved your message. To go on with the check-in:")),
                        question,
                    ]
        elif state.flow == helprequest.FLOW:
            routed = await helprequest.describe(
                session, participant, text=text, media_file_id=media_file_id, now=now
            )
        elif state.flow == appointments.FLOW:
            routed = await appointments.reason(session, participant, text=text, now=now)
    if routed is not None:
        answer.replies.extend(routed)
    elif not answer.urgent:
        answer.replies.extend(freetext.acknowledge(participant, kind=kind, now=now))
    return answer
