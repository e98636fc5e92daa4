"""The acknowledgement of a free message (stored by the gate, triaged by `bot.dispatch`).

It comes once per burst of messages, not after every line, so a person who writes five
lines in a row gets one calm "your officer reads this".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.i18n import _
from bot.replies import Reply
from db.models import Participant

BURST = timedelta(minutes=10)


def acknowledge(participant: Participant, *, kind: str, now: datetime) -> list[Reply]:
    """One short acknowledgement per burst; nothing for the rest of the burst."""
    if participant.last_ack_at is not None and now - participant.last_ack_at <= BURST:
        return []
    participant.last_ack_at = now
    if kind in ("voice", "photo", "document"):
        return [Reply(_("Got it. I saved it and your officer can see it."))]
    return [Reply(_("Thanks, I saved your message. Your officer reads along."))]
