"""Helpers every handler module uses: the update's scope, replying, and parsing messages."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from telegram import (
    Message,
    MessageOrigin,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.ext import ApplicationHandlerStop, ContextTypes, filters

from bot import guide, outbox
from bot.flows import ChoiceId, parse_choice_id
from bot.inbound import Inbound
from bot.replies import Reply, keyboard_actions
from bot.runtime import Runtime, UpdateScope, current_scope
from db.models import Participant


def runtime_of(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The Runtime the application was built with."""
    return cast(Runtime, context.bot_data["runtime"])


def scope() -> UpdateScope:
    """The current update's transaction, moment and sender."""
    return current_scope()


def reply(replies: list[Reply], *, priority: int = outbox.PRIORITY_REPLY) -> None:
    """Queue replies to the chat the update came from (sent after the commit)."""
    current = scope()
    if current.chat_id is None:
        return
    outbox.enqueue(
        current.session,
        current.chat_id,
        replies,
        now=current.now,
        priority=priority,
        participant_id=current.participant.id if current.participant else None,
        staff_id=current.staff.id if current.staff else None,
        message_thread_id=current.thread_id,
    )


def message_kind(message: Message) -> str:
    """Which of the message kinds of docs/design.md this is."""
    if message.text is not None:
        return "command" if message.text.startswith("/") else "text"
    for kind in ("photo", "voice", "sticker", "document", "location"):
        if getattr(message, kind, None):
            return kind
    if message.video_note or message.audio:
        return "voice"
    if message.video or message.animation:
        return "document"
    return "other"


def media_file_id(message: Message) -> str | None:
    """A reference to the media (never the bytes), for forwarding to the officer."""
    if message.photo:
        return message.photo[-1].file_id
    for attribute in ("voice", "video_note", "audio", "video", "animation", "document", "sticker"):
        media = getattr(message, attribute, None)
        if media is not None:
            return str(media.file_id)
    return None


def parse_inbound(update: Update) -> Inbound | None:
    """Turn a message, an edit or a button press into an `Inbound`."""
    if update.callback_query is not None:
        query = update.callback_query
        chat_id = query.message.chat.id if query.message else query.from_user.id
        return Inbound(
            chat_id=chat_id,
            kind="callback",
            text=_pressed_label(update),
            dedupe_key=f"cb:{query.id}",
            update_id=update.update_id,
        )
    if update.edited_message is not None:
        edited = update.edited_message
        return Inbound(
            chat_id=edited.chat.id,
            kind="edit",
            text=edited.text or edited.caption,
            dedupe_key=f"e:{edited.chat.id}:{edited.message_id}:{update.update_id}",
            update_id=update.update_id,
            platform_message_id=edited.message_id,
            sent_at=edited.edit_date,
        )
    message = update.message
    if message is None:
        return None
    if message.location is not None:
        text: str | None = f"{message.location.latitude},{message.location.longitude}"
    else:
        text = message.text if message.text is not None else message.caption
    return Inbound(
        chat_id=message.chat.id,
        kind=message_kind(message),
        text=text,
        dedupe_key=f"m:{message.chat.id}:{message.message_id}",
        update_id=update.update_id,
        platform_message_id=message.message_id,
        media_file_id=media_file_id(message),
        sent_at=message.date,
        detail=shared_detail(message),
    )


def shared_detail(message: Message) -> dict[str, Any] | None:
    """What a contact, venue, poll, dice or forwarded message holds beyond its text."""
    if message.contact is not None:
        contact = message.contact
        return {
            "contact": {
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "phone_number": contact.phone_number,
                "user_id": contact.user_id,
            }
        }
    if message.venue is not None:
        venue = message.venue
        return {
            "venue": {
                "title": venue.title,
                "address": venue.address,
                "latitude": venue.location.latitude,
                "longitude": venue.location.longitude,
            }
        }
    if message.poll is not None:
        return {
            "poll": {
                "question": message.poll.question,
                "options": [option.text for option in message.poll.options],
            }
        }
    if message.dice is not None:
        return {"dice": {"emoji": message.dice.emoji, "value": message.dice.value}}
    if message.forward_origin is not None:
        return {"forwarded_from": _origin(message.forward_origin)}
    return None


def _origin(origin: MessageOrigin) -> str:
    if isinstance(origin, MessageOriginUser):
        return " ".join(filter(None, [origin.sender_user.first_name, origin.sender_user.last_name]))
    if isinstance(origin, MessageOriginHiddenUser):
        return origin.sender_user_name
    if isinstance(origin, MessageOriginChat):
        return origin.sender_chat.title or origin.sender_chat.full_name or "?"
    if isinstance(origin, MessageOriginChannel):
        return origin.chat.title or "?"
    return "?"


def _pressed_label(update: Update) -> str | None:
    query = update.callback_query
    if query is None or query.message is None or not isinstance(query.message, Message):
        return None
    markup = query.message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None


def keyboard_filter(action: str) -> filters.MessageFilter:
    """Matches the persistent-keyboard button for `action`, in any language."""
    return filters.Text([label for label, act in keyboard_actions().items() if act == action])


def button() -> ChoiceId:
    """The verified button pressed in this update; a forged or garbled one is answered
    kindly and ends the update."""
    pressed = parse_choice_id(scope().choice or "")
    if pressed is None:
        reply([guide.stale_button_reply()])
        raise ApplicationHandlerStop
    return pressed


def participant_only(
    handler: Callable[[Update, ContextTypes.DEFAULT_TYPE, Participant], Awaitable[None]],
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Run `handler` for a signed-up participant; staff get their own help instead."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        current = scope()
        if current.participant is None or current.participant.status == "registering":
            if current.staff is not None:
                reply([guide.staff_help(current.staff.role)])
            return
        await handler(update, context, current.participant)

    return wrapper
