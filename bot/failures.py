"""When handling an update fails: keep what was sent, still answer a crisis, and tell the
person plainly; never lose the message or a button press.

The handler's transaction was rolled back; this runs in a fresh one with only the raw
update, so it must not depend on anything that may have caused the failure. The crisis
check runs in a savepoint of its own: if even that fails, the message and the apology
are still kept.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import dispatch, inbound, outbox
from bot.i18n import _, set_language
from bot.replies import Reply
from bot.runtime import UpdateScope
from db import people

log = logging.getLogger(__name__)

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


def _raw_press(update_id: int, query: dict[str, Any]) -> inbound.Inbound | None:
    sender = (query.get("from") or {}).get("id")
    if not isinstance(sender, int):
        return None
    chat = ((query.get("message") or {}).get("chat") or {}).get("id", sender)
    return inbound.Inbound(
        chat_id=int(chat) if isinstance(chat, int) else sender,
        kind="callback",
        text=None,
        dedupe_key=f"cb:{query.get('id', update_id)}"[:80],
        update_id=update_id,
    )


def apology() -> Reply:
    """What a participant hears when we failed to handle their message."""
    return Reply(
        _(
            "Sorry, something went wrong on our side. Your message is saved "
            "and your officer can see it."
        )
    )


def staff_not_sent() -> Reply:
    """What a staff member hears when we failed to handle their message (maybe a relay)."""
    return Reply(_("Not sent: something went wrong on our side. Please send your message again."))


async def record_failed_update(scope: UpdateScope, payload: dict[str, Any]) -> None:
    """Store a participant's message or button press from the raw update, answer a crisis
    in it, and send a kind apology; tell a staff member their message was not sent."""
    update_id = int(payload.get("update_id", 0))
    query = payload.get("callback_query")
    message = payload.get("message") or payload.get("edited_message")
    if isinstance(query, dict):
        parsed = _raw_press(update_id, query)
        sender = (query.get("from") or {}).get("id")
    elif isinstance(message, dict) and message.get("chat", {}).get("type") == "private":
        parsed = _raw_inbound(update_id, message, "edited_message" in payload)
        sender = message.get("from", {}).get("id")
    elif isinstance(message, dict) and isinstance(message.get("from", {}).get("id"), int):
        await _tell_staff_in_group(scope, message)
        return
    else:
        return
    if parsed is None or not isinstance(sender, int):
        return
    staff = await people.staff_by_telegram_id(scope.session, sender)
    if staff is not None:
        if parsed.kind in ("text", "photo", "voice", "document", "sticker", "location", "other"):
            set_language(staff.language)
            outbox.enqueue(scope.session, parsed.chat_id, [staff_not_sent()], now=scope.now)
        return
    participant = await people.participant_by_telegram_id(scope.session, sender)
    if participant is None or participant.status == "registering":
        return
    set_language(participant.language)
    stored = await inbound.record(scope.session, participant.id, parsed, scope.now)
    if stored is not None and parsed.text:
        try:
            async with scope.session.begin_nested():
                answer = await dispatch.crisis_only(
                    scope.session,
                    participant,
                    text=parsed.text,
                    message_id=stored.id,
                    now=scope.now,
                )
                outbox.enqueue(
                    scope.session,
                    parsed.chat_id,
                    answer,
                    now=scope.now,
                    priority=outbox.PRIORITY_SAFETY,
                    participant_id=participant.id,
                )
        except Exception as error:
            log.error(
                "crisis check of a failed update failed too",
                extra={"update_id": update_id, "error": type(error).__name__},
            )
    outbox.enqueue(
        scope.session, parsed.chat_id, [apology()], now=scope.now, participant_id=participant.id
    )


async def _tell_staff_in_group(scope: UpdateScope, message: dict[str, Any]) -> None:
    """A staff message in the officer group (a relay from a topic) failed: say so there."""
    staff = await people.staff_by_telegram_id(scope.session, int(message["from"]["id"]))
    chat = message.get("chat", {}).get("id")
    if staff is None or not isinstance(chat, int) or str(message.get("text", "")).startswith("/"):
        return
    thread = message.get("message_thread_id")
    set_language(staff.language)
    outbox.enqueue(
        scope.session,
        chat,
        [staff_not_sent()],
        now=scope.now,
        message_thread_id=thread if isinstance(thread, int) else None,
    )
