"""What a participant writes outside a flow's question: triage first (a crisis gets the
safety answer with 113 and 112 before anything else, and the officer an alert), and a
short acknowledgement once per burst of messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import triage
from bot.conversation.replies import Reply
from bot.i18n import _
from bot.runtime import Tx
from bot.services import alerts, safety
from db import alerts as alerts_db
from db.enums import AlertKind
from db.models import Participant

FLOOD_WINDOW = safety.FLOOD_WINDOW
FLOOD_ALERTS = 5  # flag alerts per participant per window that reach the officer at once
BURST = timedelta(minutes=10)
# A crisis message within a quarter of an hour of the first gets a shorter caring line,
# at most one a minute: a flood of them is answered once.
REPEAT_GAP = timedelta(minutes=1)


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


@dataclass(frozen=True)
class CrisisCheck:
    """What triage of one message led to: urgent replies, and whether it was flagged (its
    alert then carries it to the officer)."""

    replies: list[Reply] = field(default_factory=list)
    flagged: bool = False
    answered: bool = False  # a crisis answered moments ago: nothing more to say now


async def crisis_only(
    tx: Tx, participant: Participant, *, text: str | None, message_id: int | None
) -> CrisisCheck:
    """Triage a participant's text (an alert when flagged); the safety answer when it is a
    crisis (a shorter one when it came minutes ago), the direct question about self-harm
    when the signal is weak or only probable. Also used when handling the update failed,
    so a crisis is never skipped."""
    verdict = await triage_message(tx, participant, text=text, message_id=message_id)
    if verdict is None:
        return CrisisCheck()
    if verdict.severity == "critical":
        if not _safety_reply_due(participant, tx.now):
            since = tx.now - REPEAT_GAP
            if await alerts_db.recent_count(tx.session, participant.id, AlertKind.FLAG, since) > 1:
                return CrisisCheck(flagged=True, answered=True)  # a flood: answered already
            return CrisisCheck([safety.safety_reply(verdict.categories, repeat=True)], True)
        return CrisisCheck([safety.safety_reply(verdict.categories)], True)
    if verdict.ask or "self_harm" in verdict.categories:
        assert text is not None  # a verdict comes from a text
        asked = await safety.ask(
            tx, participant, text=text, message_id=message_id, flagged=verdict.flagged
        )
        return CrisisCheck(asked, verdict.flagged)
    return CrisisCheck(flagged=verdict.flagged)


def acknowledge(participant: Participant, *, kind: str, now: datetime, seen: bool) -> list[Reply]:
    """One short acknowledgement per burst; nothing for the rest of the burst. It says the
    officer reads along only when `seen` (a staff member gets the message)."""
    if participant.last_ack_at is not None and now - participant.last_ack_at <= BURST:
        return []
    participant.last_ack_at = now
    if not seen:
        return [Reply(_("Thanks, I saved your message."))]
    if kind in ("voice", "photo", "document"):
        return [Reply(_("Got it. I saved it and your officer can see it."))]
    return [Reply(_("Thanks, I saved your message. Your officer reads along."))]
