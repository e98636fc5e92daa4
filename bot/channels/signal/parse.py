"""The one reader of Signal envelopes (shapes: bot.channels.signal): who sent it, which
update id it gets, and the channel-neutral `InboundEvent` it becomes. It never raises:
anything it cannot read is None or a field left empty.

Oprit names every chat with a number. A Signal chat is a row of `signal_contacts` (the
number itself is encrypted there), numbered from SIGNAL_CHAT_BASE upwards so it never
meets a Telegram chat id (Telegram's user ids have at most 52 bits).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.conversation.events import Address, ChatKind, InboundEvent
from db.enums import Channel

SIGNAL_CHAT_BASE = 2**53
# Update ids of Signal messages: above every Telegram update id, ordered by the sender's
# timestamp (one chat's messages keep their order), then the contact.
UPDATE_BASE = 2**62
CONTACT_BITS = 20
# Millisecond timestamps between 2001 and 2109 fit below 2**63 in that scheme; a sender
# can put anything in its envelope, so others fall back to the server's timestamp.
EARLIEST_MS = 10**12
LATEST_MS = 2**42
MAX_TEXT = 16_000
NUMBER = re.compile(r"\+[1-9][0-9]{6,14}")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
NAME_LIMIT = 64


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def chat_of(contact_id: int) -> int:
    """The chat id of a Signal contact."""
    return SIGNAL_CHAT_BASE + contact_id


def contact_of(chat_id: int) -> int | None:
    """The contact behind a Signal chat id."""
    return chat_id - SIGNAL_CHAT_BASE if chat_id > SIGNAL_CHAT_BASE else None


def sender(envelope: dict[str, Any]) -> tuple[str | None, str | None]:
    """The sender's number and Signal id (ACI), each only when well-formed."""
    number = _str(envelope.get("sourceNumber")) or _str(envelope.get("source"))
    uuid = _str(envelope.get("sourceUuid"))
    return (
        number if number and NUMBER.fullmatch(number) else None,
        uuid.lower() if uuid and UUID.fullmatch(uuid) else None,
    )


def timestamp(envelope: dict[str, Any]) -> int | None:
    """The message's timestamp (its id in Signal), when plausible."""
    for key in ("timestamp", "serverReceivedTimestamp"):
        found = _int(envelope.get(key))
        if found is not None and EARLIEST_MS <= found < LATEST_MS:
            return found
    return None


def update_id(contact_id: int, sent_ms: int) -> int:
    """The inbox id of the message a contact sent at `sent_ms`: the same envelope
    delivered twice gets the same id (source + timestamp)."""
    return UPDATE_BASE + (sent_ms << CONTACT_BITS) + contact_id % (1 << CONTACT_BITS)


def is_from_person(envelope: dict[str, Any]) -> bool:
    """A message, edit or reaction a person wrote to the bot (not a receipt, typing,
    a sync of our own messages, a call or a group message)."""
    data = _dict(envelope.get("dataMessage")) or _dict(
        _dict(envelope.get("editMessage")).get("dataMessage")
    )
    return bool(data) and not data.get("groupInfo") and not data.get("isExpirationUpdate")


def receipt(envelope: dict[str, Any]) -> tuple[str, list[int]] | None:
    """("delivered" | "read", timestamps of our messages) from a receipt envelope."""
    found = _dict(envelope.get("receiptMessage"))
    if not found:
        return None
    stamps = [s for s in found.get("timestamps") or [] if _int(s) is not None]
    if found.get("isRead") or found.get("isViewed"):
        return "read", stamps
    return ("delivered", stamps) if found.get("isDelivery") else None


def slim(envelope: dict[str, Any], sent_ms: int) -> dict[str, Any]:
    """What the inbox keeps of an envelope: the message, not the sender's number (that
    is in `signal_contacts`)."""
    kept: dict[str, Any] = {"timestamp": sent_ms}
    name = _str(envelope.get("sourceName"))
    if name:
        kept["sourceName"] = name[:NAME_LIMIT]
    for key in ("dataMessage", "editMessage"):
        if isinstance(envelope.get(key), dict):
            kept[key] = envelope[key]
    return kept


def _kind(data: dict[str, Any], text: str | None) -> tuple[str, str | None]:
    """The stored kind and the media reference of a data message."""
    attachments = [a for a in data.get("attachments") or [] if isinstance(a, dict)]
    if attachments:
        first = attachments[0]
        mime = _str(first.get("contentType")) or ""
        kind = "photo" if mime.startswith("image/") else "document"
        if mime.startswith("audio/") or first.get("voiceNote"):
            kind = "voice"
        return kind, _str(first.get("id"))
    if data.get("sticker"):
        return "sticker", None
    if text is not None:
        return ("command" if text.startswith("/") else "text"), None
    return "other", None


def to_event(chat_id: int, kept: dict[str, Any], update: int | None = None) -> InboundEvent | None:
    """The channel-neutral event of a stored envelope; None when it holds nothing."""
    sent_ms = _int(kept.get("timestamp"))
    edit = _dict(kept.get("editMessage"))
    data = _dict(edit.get("dataMessage")) if edit else _dict(kept.get("dataMessage"))
    if sent_ms is None or not data:
        return None
    text = _str(data.get("message"))
    if text is not None:
        text = text[:MAX_TEXT]
    reaction = _dict(data.get("reaction"))
    detail = None
    if reaction:
        kind, media = "other", None
        emoji = _str(reaction.get("emoji"))
        detail = {"reaction": (emoji or "")[:16], "removed": bool(reaction.get("isRemove"))}
        text = None
    else:
        kind, media = _kind(data, text)
    message_id = sent_ms
    if edit:
        kind = "edit"
        message_id = _int(edit.get("targetSentTimestamp")) or sent_ms
    quote = _dict(data.get("quote"))
    return InboundEvent(
        channel=Channel.SIGNAL,
        address=Address(Channel.SIGNAL, chat_id),
        chat_kind=ChatKind.PRIVATE,
        sender=chat_id,
        sender_name=_str(kept.get("sourceName")) or "",
        kind=kind,
        text=text if text else None,
        message_id=message_id,
        reply_to=_int(quote.get("id")),
        media=media,
        detail=detail,
        sent_at=datetime.fromtimestamp(sent_ms / 1000, UTC),
        update_id=update,
    )
