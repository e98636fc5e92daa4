"""The one reader of Telegram updates: a raw update (the JSON Telegram sent, as stored in
the inbox) becomes a channel-neutral `InboundEvent`.

The inbox (to order crisis messages first), the failure path (when handling an update
failed) and the handlers all read updates through `parse`, so they agree on what an
update says. It never raises: anything it cannot read is None or a field left empty.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.conversation.events import Address, ChatKind, InboundEvent, Press
from db.enums import Channel

MESSAGE_KEYS = ("message", "edited_message", "business_message", "edited_business_message")
_MEDIA_KINDS = ("photo", "voice", "sticker", "document", "location")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _moment(value: Any) -> datetime | None:
    seconds = _int(value)
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _kind(message: dict[str, Any], text: str | None) -> str:
    if isinstance(message.get("text"), str):
        return "command" if message["text"].startswith("/") else "text"
    for kind in _MEDIA_KINDS:
        if message.get(kind):
            return kind
    if message.get("video_note") or message.get("audio"):
        return "voice"
    if message.get("video") or message.get("animation"):
        return "document"
    return "other"


def _media(message: dict[str, Any]) -> str | None:
    """A reference to the file (never the bytes), for copying it to the officer."""
    photo = message.get("photo")
    if isinstance(photo, list) and photo:
        return _str(_dict(photo[-1]).get("file_id"))
    for key in ("voice", "video_note", "audio", "video", "animation", "document", "sticker"):
        found = _dict(message.get(key)).get("file_id")
        if isinstance(found, str):
            return found
    return None


def _origin(origin: dict[str, Any]) -> str:
    kind = origin.get("type")
    if kind == "user":
        user = _dict(origin.get("sender_user"))
        return " ".join(filter(None, [_str(user.get("first_name")), _str(user.get("last_name"))]))
    if kind == "hidden_user":
        return _str(origin.get("sender_user_name")) or "?"
    chat = _dict(origin.get("sender_chat") or origin.get("chat"))
    return _str(chat.get("title")) or "?"


def _detail(message: dict[str, Any]) -> dict[str, Any] | None:
    """What a contact, venue, poll, dice or forwarded message holds beyond its text."""
    if contact := _dict(message.get("contact")):
        keys = ("first_name", "last_name", "phone_number", "user_id")
        return {"contact": {key: contact.get(key) for key in keys}}
    if venue := _dict(message.get("venue")):
        place = _dict(venue.get("location"))
        return {
            "venue": {
                "title": venue.get("title"),
                "address": venue.get("address"),
                "latitude": place.get("latitude"),
                "longitude": place.get("longitude"),
            }
        }
    if poll := _dict(message.get("poll")):
        options = [_dict(option).get("text") for option in poll.get("options") or []]
        return {"poll": {"question": poll.get("question"), "options": options}}
    if dice := _dict(message.get("dice")):
        return {"dice": {"emoji": dice.get("emoji"), "value": dice.get("value")}}
    if origin := _dict(message.get("forward_origin")):
        return {"forwarded_from": _origin(origin)}
    return None


def _chat_kind(chat: dict[str, Any]) -> ChatKind:
    kind = chat.get("type")
    if kind == "private":
        return ChatKind.PRIVATE
    if kind == "channel":
        return ChatKind.CHANNEL
    return ChatKind.GROUP


def _pressed_label(query: dict[str, Any]) -> str | None:
    markup = _dict(_dict(query.get("message")).get("reply_markup"))
    for row in markup.get("inline_keyboard") or []:
        for button in row if isinstance(row, list) else []:
            if _dict(button).get("callback_data") == query.get("data"):
                return _str(_dict(button).get("text"))
    return None


def parse(payload: dict[str, Any]) -> InboundEvent | None:
    """The event in a raw update; None for updates that carry no message or press."""
    update_id = _int(payload.get("update_id"))
    query = _dict(payload.get("callback_query"))
    if query:
        return _press(update_id, query)
    key = next((key for key in MESSAGE_KEYS if isinstance(payload.get(key), dict)), None)
    if key is None:
        channel_post = _dict(payload.get("channel_post") or payload.get("edited_channel_post"))
        if not channel_post:
            return None
        message, key = channel_post, "channel_post"
    else:
        message = payload[key]
    chat = _dict(message.get("chat"))
    chat_id = _int(chat.get("id"))
    if chat_id is None:
        return None
    sender = _dict(message.get("from"))
    sender_chat = _dict(message.get("sender_chat"))
    edited = key.startswith("edited")
    text = _str(message.get("text"))
    if text is None:
        text = _str(message.get("caption"))
    location = _dict(message.get("location"))
    if location and text is None:
        text = f"{location.get('latitude')},{location.get('longitude')}"
    thread = _int(message.get("message_thread_id")) if message.get("is_topic_message") else None
    replied = _dict(message.get("reply_to_message"))
    return InboundEvent(
        channel=Channel.TELEGRAM,
        address=Address(Channel.TELEGRAM, chat_id, thread),
        chat_kind=ChatKind.CHANNEL if key == "channel_post" else _chat_kind(chat),
        sender=_int(sender.get("id")),
        sender_name=_str(sender.get("first_name")) or "",
        sender_language=_str(sender.get("language_code")),
        sender_is_bot=bool(sender.get("is_bot")),
        anonymous_admin=bool(sender_chat) and _int(sender_chat.get("id")) == chat_id,
        kind="edit" if edited else _kind(message, text),
        text=text,
        message_id=_int(message.get("message_id")),
        reply_to=_int(replied.get("message_id")),
        media=_media(message),
        detail=_detail(message),
        sent_at=_moment(message.get("edit_date") if edited else message.get("date")),
        update_id=update_id,
    )


def _press(update_id: int | None, query: dict[str, Any]) -> InboundEvent | None:
    sender = _dict(query.get("from"))
    sender_id = _int(sender.get("id"))
    message = _dict(query.get("message"))
    chat = _dict(message.get("chat"))
    chat_id = _int(chat.get("id")) or sender_id
    if chat_id is None:
        return None
    thread = _int(message.get("message_thread_id")) if message.get("is_topic_message") else None
    label = _pressed_label(query)
    return InboundEvent(
        channel=Channel.TELEGRAM,
        address=Address(Channel.TELEGRAM, chat_id, thread),
        chat_kind=_chat_kind(chat) if chat else ChatKind.PRIVATE,
        sender=sender_id,
        sender_name=_str(sender.get("first_name")) or "",
        sender_language=_str(sender.get("language_code")),
        sender_is_bot=bool(sender.get("is_bot")),
        kind="callback",
        text=label,
        press=Press(
            data=_str(query.get("data")),
            label=label,
            press_id=str(query.get("id") or update_id),
            message_id=_int(message.get("message_id")),
            question=_str(message.get("text")),
        ),
        update_id=update_id,
    )


def chat_and_text(payload: dict[str, Any]) -> tuple[int | None, str | None]:
    """The chat of a raw update and its text (for ordering a crisis first)."""
    event = parse(payload)
    if event is None:
        return None, None
    return event.address.chat, event.text if event.kind != "callback" else None


def sender_of(payload: dict[str, Any]) -> int | None:
    """Who sent a raw update."""
    event = parse(payload)
    return event.sender if event is not None else None
