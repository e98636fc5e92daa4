"""People in the local Telegram: what a Telegram client sends when someone writes, replies,
presses a button or sends a photo or a voice note. Each action becomes an update for
getUpdates and a message in the chat, as in Telegram."""

from __future__ import annotations

import itertools
import time
from typing import Any

from bot.localtelegram.markup import utf16_len
from bot.localtelegram.server import LocalTelegram
from bot.localtelegram.spec import ApiError, ChatId, JsonDict

_query_ids = itertools.count(1)


class LocalUser:
    """One Telegram account that writes to the bot (in its private chat or in a group)."""

    def __init__(
        self, api: LocalTelegram, user_id: int, first_name: str, language_code: str = "nl"
    ) -> None:
        self.api = api
        self.user_id = user_id
        self.user: JsonDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        api.open_chat(user_id, first_name)

    def _chat(self, chat_id: ChatId) -> JsonDict:
        if chat_id == self.user_id:
            return {"id": chat_id, "type": "private", "first_name": self.user["first_name"]}
        return self.api.chat(chat_id)

    def _post(
        self,
        chat_id: ChatId,
        content: JsonDict,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> JsonDict:
        """Put one message from this person into a chat; returns the Message."""
        message: JsonDict = {
            "message_id": self.api.next_message_id(chat_id),
            "from": dict(self.user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            # Like Telegram: a topic message without a reply replies to the topic's start.
            reply_to = reply_to or thread_id
        if reply_to is not None:
            replied = self.api.message(chat_id, reply_to)
            if replied is None:
                raise ApiError(400, "Bad Request: message to be replied not found")
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
        message.update(content)
        self.api.push_update({"message": message})
        return message

    def write(
        self,
        chat_id: ChatId,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> JsonDict:
        """Send a text; a leading /command gets its bot_command entity, like a client adds."""
        content: JsonDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return self._post(chat_id, content, reply_to, thread_id)

    def send_photo(
        self, chat_id: ChatId, data: bytes, caption: str | None = None, **where: Any
    ) -> JsonDict:
        """Send a JPEG photo (with an optional caption)."""
        photo = self.api.upload(data, "photo", "image/jpeg", width=320, height=240)
        content: JsonDict = {"photo": [photo]}
        if caption:
            content["caption"] = caption
        return self._post(chat_id, content, **where)

    def send_voice(
        self,
        chat_id: ChatId,
        data: bytes,
        duration: int,
        mime_type: str = "audio/ogg",
        **where: Any,
    ) -> JsonDict:
        """Send a voice note (Telegram's are Ogg Opus)."""
        voice = self.api.upload(data, "voice", mime_type, duration=duration)
        voice["mime_type"] = mime_type
        return self._post(chat_id, {"voice": voice}, **where)

    def press(self, chat_id: ChatId, message_id: int, data: str) -> int:
        """Press an inline button (its callback data) under a bot message; the update id."""
        message = self.api.message(chat_id, message_id)
        if message is None:
            raise ApiError(400, "Bad Request: message not found")
        return self.api.push_update(
            {
                "callback_query": {
                    "id": f"{self.user_id}{next(_query_ids):06d}",
                    "from": dict(self.user),
                    "message": message,
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                }
            }
        )

    def react(self, chat_id: ChatId, message_id: int, emoji: str) -> int:
        """Put an emoji reaction on a message (Telegram tells the bot); the update id."""
        self.api.react(chat_id, message_id, emoji)
        return self.api.push_update(
            {
                "message_reaction": {
                    "chat": self._chat(chat_id),
                    "message_id": message_id,
                    "user": dict(self.user),
                    "date": int(time.time()),
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": emoji}],
                }
            }
        )
