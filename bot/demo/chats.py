"""A chat as a Telegram client shows it, in the shape of the control API: each message
with its sender, text, buttons, reply keyboard, the message it replies to, its topic,
whether it was edited, reactions, and links to its photo, voice note or document."""

from __future__ import annotations

from typing import Any

from bot.demo.world import DemoChat, DemoWorld
from bot.localtelegram import JsonDict
from bot.localtelegram.server import BOT_ID

PREVIEW_CHARACTERS = 120


def text_of(message: JsonDict) -> str:
    """What a person reads: the text or the caption."""
    return str(message.get("text") or message.get("caption") or "")


def _buttons(message: JsonDict) -> list[list[JsonDict]]:
    markup = message.get("reply_markup") or {}
    return [
        [{"text": button.get("text", ""), "data": button.get("callback_data")} for button in row]
        for row in markup.get("inline_keyboard", [])
    ]


def _keyboard(world: DemoWorld, chat_id: int, message_id: int) -> list[list[str]] | None:
    """The reply keyboard sent with this message: rows of labels, [] when it was removed."""
    markup = world.api.reply_keyboard(chat_id, message_id)
    if markup is None:
        return None
    return [
        [button if isinstance(button, str) else str(button.get("text", "")) for button in row]
        for row in markup.get("keyboard", [])
    ]


def _file_url(file: JsonDict) -> str:
    return f"/files/{file.get('file_id', '')}"


def _attachments(message: JsonDict) -> JsonDict:
    found: JsonDict = {}
    if message.get("photo"):
        found["photo"] = _file_url(message["photo"][-1])
    if message.get("voice"):
        found["voice"] = _file_url(message["voice"])
        found["duration"] = message["voice"].get("duration", 0)
    if message.get("document"):
        found["document"] = {
            "name": message["document"].get("file_name", "file"),
            "url": _file_url(message["document"]),
        }
    if message.get("sticker"):
        found["sticker"] = message["sticker"].get("emoji", "🖼️")
    return found


def view(world: DemoWorld, chat: DemoChat, message: JsonDict) -> JsonDict:
    """One message as GET /api/chats/{id}/messages shows it."""
    sender: Any = message.get("from") or {}
    replied = message.get("reply_to_message")
    thread_id = message.get("message_thread_id")
    # In a forum a topic message "replies" to the topic's start: that is no real reply.
    replied = replied if isinstance(replied, dict) else None
    reply_to = replied.get("message_id") if replied else None
    if replied and reply_to == thread_id and "forum_topic_created" in replied:
        reply_to = None
    shown: JsonDict = {
        "id": message["message_id"],
        "from": "bot" if sender.get("id") == BOT_ID else "user",
        "sender": sender.get("first_name", ""),
        "text": text_of(message),
        "thread_id": thread_id,
        "buttons": _buttons(message),
        "keyboard": _keyboard(world, chat.id, message["message_id"]),
        "reply_to": reply_to,
        "edited": "edit_date" in message,
        "reactions": [
            r.get("emoji", "")
            for r in world.api.reactions(chat.id, message["message_id"])
            if r.get("type") == "emoji"
        ],
        **_attachments(message),
    }
    if reply_to is not None and replied:
        shown["reply_preview"] = text_of(replied)[:PREVIEW_CHARACTERS] or "📎"
    if "forum_topic_created" in message:
        shown["service"] = f"# {message['forum_topic_created'].get('name', '')}"
    if "forward_origin" in message:
        shown["forwarded"] = True
    return shown


def messages(world: DemoWorld, chat: DemoChat, after: int = 0) -> list[JsonDict]:
    """The chat's messages with an id above `after`, oldest first."""
    return [
        view(world, chat, message)
        for message in world.api.messages(chat.id)
        if message["message_id"] > after
    ]


def topics(world: DemoWorld, chat: DemoChat) -> dict[int, str]:
    """Forum topics of a group chat: thread id → name."""
    return world.api.topics(chat.id) if chat.kind == "group" else {}
