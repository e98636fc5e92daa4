"""Storing what a participant sends: every inbound message of any kind is one row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from db import conversation
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


@dataclass(frozen=True)
class Inbound:
    """One incoming message, already parsed out of the chat platform's update."""

    chat_id: int
    kind: str
    text: str | None
    dedupe_key: str
    update_id: int | None = None
    platform_message_id: int | None = None
    media_file_id: str | None = None
    sent_at: datetime | None = None
    # What a contact, venue, poll, dice or forwarded message held beyond its text.
    detail: dict[str, Any] | None = None


def _sent_at(sent_at: datetime | None, now: datetime) -> datetime:
    """Telegram's date, unless it is implausible (Telegram keeps updates for a day)."""
    if sent_at is None or not now - PLAUSIBLE_DELAY <= sent_at <= now:
        return now
    return sent_at


async def record(
    session: AsyncSession, participant_id: int, inbound: Inbound, now: datetime
) -> Message | None:
    """Store the message; None when this exact message was stored before (redelivery).

    `at` is when the person sent it (Telegram's date), so a message written while the bot
    was down keeps its real time."""
    return await conversation.insert_message_once(
        session,
        participant_id=participant_id,
        direction="in",
        kind=inbound.kind if inbound.kind in KINDS else "other",
        chat_id=inbound.chat_id,
        telegram_message_id=inbound.platform_message_id,
        update_id=inbound.update_id,
        dedupe_key=inbound.dedupe_key[:80],
        text=inbound.text,
        media_file_id=inbound.media_file_id,
        detail=inbound.detail,
        at=_sent_at(inbound.sent_at, now),
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
