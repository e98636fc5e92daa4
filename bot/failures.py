"""When handling an update fails: keep the message and apologise, never lose it.

The handler's transaction was rolled back; this runs in a fresh one with only the raw
update, so it must not depend on anything that may have caused the failure.
"""

from __future__ import annotations

from typing import Any

from bot import inbound, outbox
from bot.i18n import _, set_language
from bot.replies import Reply
from bot.runtime import UpdateScope
from db import people

_MEDIA = ("photo", "voice", "sticker", "document", "location")


def _raw_inbound(update_id: int, message: dict[str, Any], edited: bool) -> inbound.Inbound:
    chat_id = int(message.get("chat", {}).get("id", 0))
    message_id = int(message.get("message_id", 0))
    text = message.get("text", message.get("caption"))
    kind = "edit" if edited else next((k for k in _MEDIA if k in message), "text")
    if kind == "text" and isinstance(text, str) and text.startswith("/"):
        kind = "command"
    key = f"e:{chat_id}:{message_id}:{update_id}" if edited else f"m:{chat_id}:{message_id}"
    return inbound.Inbound(
        chat_id=chat_id,
        kind=kind if text is not None or kind != "text" else "other",
        text=text if isinstance(text, str) else None,
        dedupe_key=key,
        update_id=update_id,
        platform_message_id=message_id,
    )


async def record_failed_update(scope: UpdateScope, payload: dict[str, Any]) -> None:
    """Store a participant's message from the raw update and send a kind apology."""
    edited = "edited_message" in payload
    message = payload.get("message") or payload.get("edited_message")
    if not isinstance(message, dict):
        return
    sender = message.get("from", {}).get("id")
    if not isinstance(sender, int) or message.get("chat", {}).get("type") != "private":
        return
    participant = await people.participant_by_telegram_id(scope.session, sender)
    if participant is None or participant.status == "registering":
        return
    set_language(participant.language)
    parsed = _raw_inbound(int(payload.get("update_id", 0)), message, edited)
    await inbound.record(scope.session, participant.id, parsed, scope.now)
    outbox.enqueue(
        scope.session,
        parsed.chat_id,
        [
            Reply(
                _(
                    "Sorry, something went wrong on our side. Your message is saved "
                    "and your officer can see it."
                )
            )
        ],
        now=scope.now,
        participant_id=participant.id,
    )
