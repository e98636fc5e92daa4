"""Anything a participant writes outside a flow: stored (by the gate), triaged, acknowledged.

The acknowledgement comes once per burst of messages, not after every line, so a person
who writes five lines in a row gets one calm "your officer reads this".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.replies import Reply
from db.models import Participant

BURST = timedelta(minutes=10)


async def handle(
    session: AsyncSession,
    participant: Participant,
    *,
    message_id: int | None,
    text: str | None,
    kind: str,
    now: datetime,
) -> list[Reply]:
    """Acknowledge a free message (triage and alerts are wired in by `bot.triage`)."""
    replies: list[Reply] = []
    if participant.last_ack_at is None or now - participant.last_ack_at > BURST:
        participant.last_ack_at = now
        if kind in ("voice", "photo", "document"):
            replies.append(Reply(_("Got it. I saved it and your officer can see it.")))
        else:
            replies.append(Reply(_("Thanks, I saved your message. Your officer reads along.")))
    return replies
