"""What a flow says back, independent of the chat platform.

A channel renders `choices` as buttons (Telegram: inline buttons; a text channel:
numbered options) and `keyboard` as the persistent keyboard of the participant's flows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

MESSAGE_LIMIT = 4000  # Telegram allows 4,096; a little room for safety
CAPTION_LIMIT = 1000  # Telegram allows 1,024


def _utf16_length(text: str) -> int:
    """Telegram measures text in UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` UTF-16 units, at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while _utf16_length(line) > limit:
            cut = limit
            while _utf16_length(line[:cut]) > limit:
                cut -= 1
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if _utf16_length(current + line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current:
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()] or ["…"]


class Keyboard(StrEnum):
    """Which persistent keyboard to show with a message."""

    PARTICIPANT = "participant"
    REMOVE = "remove"


@dataclass(frozen=True)
class Choice:
    """One button: an id the flow understands back, and the label a person reads."""

    id: str
    label: str


@dataclass(frozen=True)
class Attachment:
    """A file to send along (an .ics, a data export)."""

    filename: str
    content: bytes
    mime_type: str


@dataclass
class Reply:
    """One message to send: text, optional rows of choices, keyboard or file.

    `about` is the participant a message to staff is about (erasure reaches it); `reply_to`
    the platform message id it answers."""

    text: str
    choices: list[list[Choice]] = field(default_factory=list)
    keyboard: Keyboard | None = None
    attachment: Attachment | None = None
    about: int | None = None
    reply_to: int | None = None

    def parts(self) -> list[Reply]:
        """This reply as messages Telegram accepts: long text split at line ends into
        pieces of at most 4,000 characters (buttons and keyboard on the last), a file's
        caption only when it fits, and never an empty text."""
        limit = CAPTION_LIMIT if self.attachment else MESSAGE_LIMIT
        text = self.text if self.text.strip() else "…"
        if _utf16_length(text) <= limit:
            return [replace(self, text=text)]
        chunks = split_text(text, MESSAGE_LIMIT)
        about = self.about
        if self.attachment:
            return [
                *(Reply(chunk, about=about) for chunk in chunks),
                Reply("📎", attachment=self.attachment, about=about),
            ]
        head = [Reply(chunk, about=about, reply_to=self.reply_to) for chunk in chunks[:-1]]
        return [*head, Reply(chunks[-1], self.choices, self.keyboard, about=about)]

    def payload(self, keyboard: list[list[str]] | None = None) -> dict[str, object]:
        """The JSON stored in the outbox row for this reply; `keyboard` holds the rows of
        the participant keyboard, for a reply that shows it."""
        data: dict[str, object] = {"text": self.text}
        if self.choices:
            data["choices"] = [[[c.id, c.label] for c in row] for row in self.choices]
        if self.keyboard is Keyboard.PARTICIPANT:
            if keyboard is None:
                raise ValueError("a reply with the participant keyboard needs its rows")
            data["keyboard"] = keyboard
        elif self.keyboard is Keyboard.REMOVE:
            data["keyboard"] = "remove"
        if self.reply_to is not None:
            data["reply_to"] = self.reply_to
        if self.attachment:
            data["attachment"] = {
                "filename": self.attachment.filename,
                "content": self.attachment.content.decode("utf-8", "replace"),
                "mime_type": self.attachment.mime_type,
            }
        return data
