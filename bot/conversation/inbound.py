"""Storing what a participant sends: every inbound message of any kind is one row."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.events import InboundEvent
from bot.i18n import _
from db import messages
from db.enums import Direction
from db.models import Message

PLAUSIBLE_DELAY = timedelta(days=2)
KINDS = (
    "text",
    "command",
    "photo",
    "voice",
    "sticker",
    "document",
    "location",
    "edit",
    "callback",
    "other",
)


def _sent_at(sent_at: datetime | None, now: datetime) -> datetime:
    """Telegram's date, unless it is implausible (Telegram keeps updates for a day)."""
    if sent_at is None or not now - PLAUSIBLE_DELAY <= sent_at <= now:
        return now
    return sent_at


async def record(
    session: AsyncSession, participant_id: int, event: InboundEvent, now: datetime
) -> Message | None:
    """Store the message; None when this exact message was stored before (redelivery).

    `at` is when the person sent it (the channel's date), so a message written while the
    bot was down keeps its real time."""
    return await messages.insert_once(
        session,
        participant_id=participant_id,
        direction=Direction.IN,
        kind=event.kind if event.kind in KINDS else "other",
        chat_id=event.address.chat,
        telegram_message_id=event.message_id,
        update_id=event.update_id,
        dedupe_key=event.dedupe_key[:80],
        text=event.text,
        media_file_id=event.media,
        detail=event.detail,
        at=_sent_at(event.sent_at, now),
    )


def shared_item(detail: dict[str, Any] | None) -> str | None:
    """One line for staff describing a shared contact, venue, poll, dice or forward."""
    if not detail:
        return None
    if "contact" in detail:
        contact = detail["contact"]
        name = " ".join(
            part for part in (contact.get("first_name"), contact.get("last_name")) if part
        )
        # Translators: a contact card the participant shared; {name} and {phone} as shared
        return _("📇 Contact: {name}, {phone}").format(
            name=name or "?", phone=contact.get("phone_number") or "?"
        )
    if "venue" in detail:
        venue = detail["venue"]
        return _("📍 Place: {title}, {address}").format(
            title=venue.get("title", ""), address=venue.get("address", "")
        )
    if "poll" in detail:
        poll = detail["poll"]
        options = " / ".join(str(option) for option in poll.get("options", []))
        return _("📊 Poll: {question} ({options})").format(
            question=poll.get("question", ""), options=options
        )
    if "dice" in detail:
        dice = detail["dice"]
        return f"{dice.get('emoji', '🎲')} {dice.get('value', '?')}"
    if "forwarded_from" in detail:
        return _("↪️ Forwarded from {origin}").format(origin=detail["forwarded_from"])
    return None
