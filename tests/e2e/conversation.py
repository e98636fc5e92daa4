"""Conversation-level helpers over the local Telegram, so e2e tests read like a chat.

    alice = TelegramUser(api, 1001, "Alice")
    alice.send("/checkin")
    assert "How are you" in alice.wait_reply()
    alice.press("Good")
    assert "Thanks" in await alice.wait_reply_async()

Actions (``send``, ``press`` ...) only queue an update and return at once. ``wait_*`` methods
block until the bot has answered (``*_async`` twins keep an in-process bot's event loop
running); the other readers look at what the bot has sent so far. Everything a test sees is
what the person would see: the text after parse-mode markup, the buttons as they are now.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from bot.localtelegram import ChatId, JsonDict, LocalTelegram, utf16_len

# How long a test waits for the bot's next message. The first reply after `oprit run` also
# waits for the bot to start (imports, the database, the triage rules and model): once, on a
# machine loaded by other work, that took more than 10 s.
REPLY_TIMEOUT = 20.0

_ids = itertools.count(1)


def message_text(message: JsonDict) -> str:
    """What a person reads in a message: text, caption, file name or ``[kind]``."""
    for key in ("text", "caption"):
        if key in message:
            return str(message[key])
    if "document" in message:
        return str(message["document"].get("file_name", "[document]"))
    kinds = ("photo", "voice", "sticker", "location", "video", "audio")
    return next((f"[{kind}]" for kind in kinds if kind in message), "[message]")


def _inline_buttons(message: JsonDict) -> list[JsonDict]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _labels(rows: list[list[Any]]) -> list[str]:
    return [b if isinstance(b, str) else b["text"] for row in rows for b in row]


class _ChatView:
    """What the bot sent into one chat, and pressing its inline buttons."""

    def __init__(self, api: LocalTelegram, chat_id: ChatId) -> None:
        self.api = api
        self.chat_id = chat_id
        self._cursor = 0  # replies are bot messages with a higher message id than this

    def _chat(self) -> JsonDict:
        raise NotImplementedError

    def _push_message(self, sender: JsonDict, content: JsonDict) -> int:
        message_id = self.api.next_message_id(self.chat_id)
        message = {
            "message_id": message_id,
            "from": sender,
            "chat": self._chat(),
            "date": int(time.time()),
            **content,
        }
        update_id = self.api.push_update({"message": message})
        self._cursor = message_id
        return update_id

    def _messages(self, thread_id: int | None = None) -> list[JsonDict]:
        """The bot's messages here, without service messages such as "topic created"."""
        return [
            m
            for m in self.api.bot_messages(self.chat_id, thread_id)
            if "forum_topic_created" not in m
        ]

    def _wait_new(self, containing: str | None, timeout: float, thread_id: int | None) -> JsonDict:
        """The first bot message after the cursor (containing the text), advancing the cursor."""
        needle = containing.lower() if containing else ""

        def find() -> JsonDict | None:
            return next(
                (
                    m
                    for m in self._messages(thread_id)
                    if m["message_id"] > self._cursor and needle in message_text(m).lower()
                ),
                None,
            )

        wanted = f"a new bot message in chat {self.chat_id}"
        if containing:
            wanted += f" containing {containing!r}"
        message = self.api.wait_until(find, timeout, wanted)
        self._cursor = message["message_id"]
        return message

    def _press(self, sender: JsonDict, label: str, thread_id: int | None) -> int:
        """Press the inline button whose label contains ``label`` on the newest such message."""
        wanted = label.lower()
        for message in reversed(self._messages(thread_id)):
            buttons = _inline_buttons(message)
            matches = [b for b in buttons if b["text"].lower() == wanted] or [
                b for b in buttons if wanted in b["text"].lower()
            ]
            if not matches:
                continue
            button = matches[0]
            if "callback_data" not in button:
                raise AssertionError(f"button {button['text']!r} is not a callback button")
            return self._press_on(sender, button["callback_data"], message)
        available = [[b["text"] for b in _inline_buttons(m)] for m in self._messages(thread_id)]
        raise AssertionError(
            f"no inline button matching {label!r} in chat {self.chat_id}; "
            f"buttons per bot message: {[b for b in available if b]}"
        )

    def _press_on(self, sender: JsonDict, data: str, message: JsonDict) -> int:
        update_id = self.api.push_update(
            {
                "callback_query": {
                    "id": f"{sender['id']}{next(_ids):06d}",
                    "from": sender,
                    "message": message,
                    "chat_instance": f"ci{self.chat_id}",
                    "data": data,
                }
            }
        )
        self._cursor = self.api.last_message_id(self.chat_id)
        return update_id

    def _press_data(self, sender: JsonDict, data: str, message_id: int) -> int:
        # An unknown or deleted message arrives as an InaccessibleMessage (date 0).
        message = self.api.message(self.chat_id, message_id) or {
            "chat": self._chat(),
            "message_id": message_id,
            "date": 0,
        }
        return self._press_on(sender, data, message)


class TelegramUser(_ChatView):
    """A person in a private chat with the bot (participant or staff)."""

    def __init__(
        self,
        api: LocalTelegram,
        user_id: int,
        first_name: str = "Sam",
        language_code: str = "nl",
    ) -> None:
        super().__init__(api, user_id)
        self.user: JsonDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        self.last_message_id = 0  # message id of this user's latest message

    def _chat(self) -> JsonDict:
        return {"id": self.chat_id, "type": "private", "first_name": self.user["first_name"]}

    def _send_content(self, content: JsonDict) -> int:
        update_id = self._push_message(self.user, content)
        self.last_message_id = self._cursor
        return update_id

    def _file(self, kind: str) -> JsonDict:
        number = next(_ids)
        return {"file_id": f"USER-{kind}-{number}", "file_unique_id": f"u{kind}{number}"}

    # -- actions: each queues one update and returns its update_id --

    def send(self, text: str) -> int:
        """Send a text message; a leading ``/command`` gets its bot_command entity."""
        content: JsonDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return self._send_content(content)

    def send_sticker(self, emoji: str = "👍") -> int:
        """Send a sticker."""
        sticker = {
            **self._file("sticker"),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._send_content({"sticker": sticker})

    def send_voice(self, duration: int = 3) -> int:
        """Send a voice note."""
        voice = {**self._file("voice"), "duration": duration, "mime_type": "audio/ogg"}
        return self._send_content({"voice": voice})

    def send_photo(self, caption: str | None = None) -> int:
        """Send a photo (in the usual two sizes), optionally with a caption."""
        photo = self._file("photo")
        sizes = [{**photo, "width": 90, "height": 90}, {**photo, "width": 1280, "height": 1280}]
        content: JsonDict = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self._send_content(content)

    def send_document(self, name: str, mime_type: str = "application/pdf") -> int:
        """Send a file."""
        document = {**self._file("document"), "file_name": name, "mime_type": mime_type}
        return self._send_content({"document": document})

    def send_location(self, lat: float, lon: float) -> int:
        """Share a location."""
        return self._send_content({"location": {"latitude": lat, "longitude": lon}})

    def edit(self, message_id: int, new_text: str) -> int:
        """Edit one of this user's earlier text messages (an ``edited_message`` update)."""
        original = self.api.message(self.chat_id, message_id)
        if original is None:
            raise AssertionError(f"no message {message_id} in chat {self.chat_id} to edit")
        original.pop("entities", None)
        edited = {**original, "text": new_text, "edit_date": int(time.time())}
        return self.api.push_update({"edited_message": edited})

    def reply_to(self, message_id: int, text: str) -> int:
        """Reply (Telegram's reply feature) to a message in this chat, usually the bot's."""
        replied = self.api.message(self.chat_id, message_id)
        if replied is None:
            raise AssertionError(f"no message {message_id} in chat {self.chat_id} to reply to")
        replied.pop("reply_to_message", None)
        return self._send_content({"text": text, "reply_to_message": replied})

    def send_raw(self, update: JsonDict) -> int:
        """Queue any update as is (it must still match the Bot API spec)."""
        update_id = self.api.push_update(update)
        self._cursor = self.api.last_message_id(self.chat_id)
        return update_id

    def press(self, label: str) -> int:
        """Press the inline button whose label contains ``label`` (case-insensitive)."""
        return self._press(self.user, label, None)

    def press_data(self, data: str, message_id: int) -> int:
        """Send callback data of your choosing, e.g. forged or stale, from a message."""
        return self._press_data(self.user, data, message_id)

    # -- what the user sees --

    def replies(self, since: int | None = None) -> list[str]:
        """Texts of the bot's messages in this chat, oldest first, after message id ``since``."""
        return [
            message_text(m) for m in self._messages() if since is None or m["message_id"] > since
        ]

    def last_reply(self) -> str:
        """Text of the bot's latest message in this chat."""
        messages = self._messages()
        if not messages:
            raise AssertionError(f"the bot has sent nothing to chat {self.chat_id}")
        return message_text(messages[-1])

    def wait_reply(self, containing: str | None = None, timeout: float = REPLY_TIMEOUT) -> str:
        """Wait for the next bot message after the last action (containing a text, any case)."""
        return message_text(self._wait_new(containing, timeout, None))

    async def wait_reply_async(
        self, containing: str | None = None, timeout: float = REPLY_TIMEOUT
    ) -> str:
        """``wait_reply`` without blocking the caller's event loop."""
        return await asyncio.to_thread(self.wait_reply, containing, timeout)

    def last_markup(self) -> JsonDict | None:
        """Markup of the bot's latest message: its inline keyboard now, else what was sent."""
        messages = self._messages()
        if not messages:
            return None
        last = messages[-1]
        if "reply_markup" in last:
            return dict(last["reply_markup"])
        for call in reversed(self.api.sent_messages(self.chat_id)):
            if (
                isinstance(call.result, dict)
                and call.result.get("message_id") == last["message_id"]
            ):
                markup = call.params.get("reply_markup")
                return dict(markup) if isinstance(markup, dict) else None
        return None

    def buttons(self) -> list[str]:
        """Labels of the newest inline keyboard in this chat."""
        for message in reversed(self._messages()):
            if _inline_buttons(message):
                return [b["text"] for b in _inline_buttons(message)]
        return []

    def keyboard(self) -> list[str]:
        """Labels of the persistent reply keyboard the bot last set ([] if removed or none)."""
        for call in reversed(self.api.sent_messages(self.chat_id)):
            markup = call.params.get("reply_markup")
            if isinstance(markup, dict) and "keyboard" in markup:
                return _labels(markup["keyboard"])
            if isinstance(markup, dict) and markup.get("remove_keyboard"):
                return []
        return []


class TelegramGroup(_ChatView):
    """A staff forum supergroup: one topic per participant."""

    def __init__(self, api: LocalTelegram, chat_id: int, title: str = "Oprit officers") -> None:
        super().__init__(api, chat_id)
        self.title = title

    def _chat(self) -> JsonDict:
        return {"id": self.chat_id, "type": "supergroup", "title": self.title, "is_forum": True}

    def staff_writes_in_topic(self, user: TelegramUser, thread_id: int, text: str) -> int:
        """A staff member writes ``text`` in a forum topic."""
        content: JsonDict = {"message_thread_id": thread_id, "is_topic_message": True, "text": text}
        created = self.api.message(self.chat_id, thread_id)
        if created is not None and "forum_topic_created" in created:
            # Like Telegram: a topic message replies to the topic's creation service message.
            content["reply_to_message"] = created
        return self._push_message(user.user, content)

    def press(self, user: TelegramUser, label: str, thread_id: int | None = None) -> int:
        """``user`` presses the newest inline button containing ``label`` (in a topic)."""
        return self._press(user.user, label, thread_id)

    def topics(self) -> dict[int, str]:
        """Topics the bot created here: message_thread_id → name."""
        return self.api.topics(self.chat_id)

    def messages(self, thread_id: int | None = None) -> list[str]:
        """Texts of the bot's messages in the group (or one topic), oldest first."""
        return [message_text(m) for m in self._messages(thread_id)]

    def wait_message(
        self,
        containing: str | None = None,
        thread_id: int | None = None,
        timeout: float = REPLY_TIMEOUT,
    ) -> JsonDict:
        """Wait for the next bot message in the group (or topic); returns the whole Message."""
        return self._wait_new(containing, timeout, thread_id)

    async def wait_message_async(
        self,
        containing: str | None = None,
        thread_id: int | None = None,
        timeout: float = REPLY_TIMEOUT,
    ) -> JsonDict:
        """``wait_message`` without blocking the caller's event loop."""
        return await asyncio.to_thread(self.wait_message, containing, thread_id, timeout)
