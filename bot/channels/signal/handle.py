"""A stored Signal message, handled in the inbox's transaction: it becomes an
`InboundEvent` and goes through the same dispatcher as a Telegram update.

Signal has no buttons, so the text is read the way a person means it:
- an invite code sent by someone unknown is `/start CODE`;
- a number or a label of the question Oprit asked last ("2", "okay") presses that choice;
- a word of the participant keyboard ("check-in", "I need help") starts its flow.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from bot import flows
from bot.channels.signal import parse
from bot.conversation.choices import sign_choice
from bot.conversation.events import InboundEvent, Press
from bot.engine import dispatch, failures
from bot.i18n import available_languages, use_language
from bot.runtime import UpdateScope, current_scope
from db import people
from db import signal as signal_db
from db.enums import Channel, ParticipantStatus

# Invite codes are 80 random bits in url-safe base64 (bot.services.invites): 14 characters.
INVITE_CODE = re.compile(r"(?:/?start\s+)?([A-Za-z0-9_-]{12,64})", re.IGNORECASE)


def normalise(text: str) -> str:
    """What a typed word and a label have in common: letters and digits, any case."""
    kept = "".join(char if char.isalnum() else " " for char in text.casefold())
    return " ".join(kept.split())


def event_of(payload: dict[str, Any]) -> InboundEvent | None:
    """The event of a stored payload, read as sent (no database)."""
    signal = payload.get("signal")
    if not isinstance(signal, dict) or not isinstance(signal.get("chat"), int):
        return None
    envelope = signal.get("envelope")
    update = payload.get("update_id")
    return parse.to_event(
        signal["chat"],
        envelope if isinstance(envelope, dict) else {},
        update if isinstance(update, int) else None,
    )


def _keyboard_label(text: str) -> str | None:
    """The keyboard button a typed word names, in any language."""
    wanted = normalise(text)
    if not wanted:
        return None
    for language in available_languages():
        with use_language(language):
            for row in flows.keyboard_rows():
                for label in row:
                    if normalise(label) == wanted:
                        return label
    return None


async def _typed_choice(scope: UpdateScope, event: InboundEvent, text: str) -> Press | None:
    """The choice of Oprit's last question that a typed number or word names."""
    last = await signal_db.last_message_to(scope.session, event.address.chat)
    payload = last.payload if last is not None and isinstance(last.payload, dict) else {}
    choices = [
        (str(choice), str(label)) for row in payload.get("choices") or [] for choice, label in row
    ]
    if not choices:
        return None
    picked = None
    if text.isdecimal() and 1 <= int(text) <= len(choices):  # also ٢ and ２
        picked = choices[int(text) - 1]
    else:
        wanted = normalise(text)
        picked = next((c for c in choices if wanted and normalise(c[1]) == wanted), None)
    if picked is None:
        return None
    choice, label = picked
    return Press(
        sign_choice(scope.runtime.keyring, choice),
        label,
        f"s:{event.address.chat}:{event.message_id}",
        message_id=last.telegram_message_id if last is not None else None,
    )


async def understood(scope: UpdateScope, event: InboundEvent) -> InboundEvent:
    """The event as the person meant it (see the module docstring)."""
    if event.kind != "text" or not event.text:
        return event
    text = event.text.strip()
    participant = await people.participant_by_address(
        scope.session, Channel.SIGNAL, event.address.chat
    )
    if participant is None:
        code = INVITE_CODE.fullmatch(text)
        return replace(event, kind="command", text=f"/start {code.group(1)}") if code else event
    press = await _typed_choice(scope, event, text)
    if press is not None:
        return replace(event, kind="callback", text=press.label, press=press)
    if participant.status == ParticipantStatus.REGISTERING:
        return event
    label = _keyboard_label(text)
    return replace(event, text=label) if label is not None else event


async def handle(payload: dict[str, Any]) -> None:
    """Handle one stored Signal payload in the current update's scope."""
    scope = current_scope()
    event = event_of(payload)
    if event is None:
        return
    await dispatch.handle(scope, await understood(scope, event))
    contact_id = parse.contact_of(event.address.chat)
    if scope.participant is not None and contact_id is not None:
        contact = await signal_db.contact_by_id(scope.session, contact_id)
        if contact is not None and contact.participant_id is None:
            contact.participant_id = scope.participant.id


async def handle_failure(payload: dict[str, Any], error: BaseException) -> None:
    """Handling failed: keep the message, answer a crisis, apologise (bot.engine.failures)."""
    await failures.record_failed_update(current_scope(), event_of(payload))
