"""What a channel hands in: one inbound event, whatever the messenger.

A channel (bot.channels.*) parses its own updates into `InboundEvent`s; everything after
that — who the sender is, which flow the event belongs to, what is stored and answered —
is the same for every channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ChatKind(StrEnum):
    """Where the event happened."""

    PRIVATE = "private"  # a one-to-one chat with the bot
    GROUP = "group"  # a group, e.g. the officer group with one topic per participant
    CHANNEL = "channel"  # a broadcast channel: never handled


@dataclass(frozen=True)
class Address:
    """Where replies to an event go: a chat on a channel, and a thread in it."""

    channel: str
    chat: int
    thread: int | None = None


@dataclass(frozen=True)
class Press:
    """A button press: the signed choice as the channel returned it."""

    data: str | None
    label: str | None  # the button's label as the person saw it (stored with the press)
    press_id: str  # the channel's id of this press (to store it once)
    message_id: int | None = None  # the message the button was under
    question: str | None = None  # that message's text (shown again with the answer)


@dataclass(frozen=True)
class InboundEvent:
    """One message, edit or button press from a person.

    `kind` is one of the stored message kinds: text, command, photo, voice, sticker,
    document, location, edit, callback, other. `text` is the text or caption exactly as
    sent (for a location: "lat,lon"). `sender` is the channel's id of the person (for
    Telegram, their user id); `message_id` the channel's id of the message in its chat.
    """

    channel: str
    address: Address
    chat_kind: ChatKind
    sender: int | None
    sender_name: str = ""
    sender_language: str | None = None
    sender_is_bot: bool = False
    anonymous_admin: bool = False  # a group admin posting as the group: cannot be checked
    kind: str = "other"
    text: str | None = None
    message_id: int | None = None
    reply_to: int | None = None  # the message this one explicitly replies to
    media: str | None = None  # a reference to the file (never the bytes)
    detail: dict[str, Any] | None = None  # what a contact, venue, poll, dice or forward held
    sent_at: datetime | None = None
    press: Press | None = None
    update_id: int | None = None

    @property
    def dedupe_key(self) -> str:
        """The same message delivered twice has the same key (stored once)."""
        chat = self.address.chat
        if self.press is not None:
            return f"cb:{self.press.press_id}"[:80]
        if self.kind == "edit":
            return f"e:{chat}:{self.message_id}:{self.update_id}"
        return f"m:{chat}:{self.message_id}"

    @property
    def command(self) -> tuple[str, str] | None:
        """`("checkin", "")` for "/checkin", `("case", "Sam")` for "/case Sam"; else None.
        An edited message is never a command."""
        if self.kind != "command" or not self.text:
            return None
        head, *words = self.text.split()
        name = head[1:].split("@", 1)[0].lower()
        return (name, " ".join(words)) if name else None
