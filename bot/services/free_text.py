"""What a participant writes outside a flow's question: triage first (a crisis gets the
safety answer with 113 and 112 before anything else, and the officer an alert), and a
short acknowledgement once per burst of messages.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import triage
from bot.conversation.replies import Reply
from bot.i18n import _
from bot.runtime import Tx
from bot.services import alerts
from db import alerts as alerts_db
from db.enums import AlertKind
from db.models import Participant

FLOOD_WINDOW = timedelta(minutes=15)
FLOOD_ALERTS = 5  # flag alerts per participant per window that reach the officer at once
BURST = timedelta(minutes=10)


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
    tx: Tx, participant: Participant, *, text: str | None, message_id: int | None
) -> triage.Verdict | None:
    """Classify a participant's text; a flagged verdict becomes an alert with the matches."""
    if not text:
        return None
    verdict = triage.classify(text, participant.language)
    if not verdict.flagged:
        return verdict
    recent = await alerts_db.recent_count(
        tx.session, participant.id, AlertKind.FLAG, tx.now - FLOOD_WINDOW
    )
    await alerts.raise_alert(
        tx,
        participant,
        kind=AlertKind.FLAG,
        severity=verdict.severity,
        categories=verdict.categories,
        matches=verdict.matches,
        excerpt=text,
        message_id=message_id,
        deliver=recent < FLOOD_ALERTS,
    )
    return verdict


def _safety_reply_due(participant: Participant, now: datetime) -> bool:
    """The safety answer once per quarter of an hour, not after every line of a crisis."""
    if participant.last_safety_at is not None and now - participant.last_safety_at < FLOOD_WINDOW:
        return False
    participant.last_safety_at = now
    return True


async def crisis_only(
    tx: Tx, participant: Participant, *, text: str | None, message_id: int | None
) -> list[Reply]:
    """Triage a participant's text (an alert when flagged); the safety answer when it is a
    crisis. Also used when handling the update failed, so a crisis is never skipped."""
    verdict = await triage_message(tx, participant, text=text, message_id=message_id)
    if verdict is None or verdict.severity != "critical":
        return []
    if not _safety_reply_due(participant, tx.now):
        return []
    return [safety_reply(verdict.categories)]


def acknowledge(participant: Participant, *, kind: str, now: datetime) -> list[Reply]:
    """One short acknowledgement per burst; nothing for the rest of the burst."""
    if participant.last_ack_at is not None and now - participant.last_ack_at <= BURST:
        return []
    participant.last_ack_at = now
    if kind in ("voice", "photo", "document"):
        return [Reply(_("Got it. I saved it and your officer can see it."))]
    return [Reply(_("Thanks, I saved your message. Your officer reads along."))]
