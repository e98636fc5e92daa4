"""The one place that turns outbox rows into Bot API calls and Telegram errors into outcomes.

The rest of Oprit reasons in actions (bot.conversation.outbox) and outcomes
(bot.delivery.results); only this module knows the Bot API's methods and
python-telegram-bot's exceptions.

A timeout or a broken connection after the request left is *ambiguous*: Telegram may have
delivered the message. Rows that must never go twice (broadcasts) then end as `Unknown`;
every other row is tried again (at least once beats never for an alert or a reminder).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

import httpx
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.conversation.choices import sign_choice
from bot.crypto import Keyring
from bot.delivery.results import (
    FLOOD_CONTROL,
    Blocked,
    Delivered,
    Failed,
    Outcome,
    RetryLater,
    ThreadGone,
    Unknown,
)
from bot.text import clean
from db.enums import Action
from db.outbox import ClaimedRow

log = logging.getLogger(__name__)


# httpx errors raised before a request was sent: always safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def render_markup(
    payload: dict[str, Any], keyring: Keyring
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """Choices become inline buttons; the participant keyboard a persistent reply keyboard."""
    choices = payload.get("choices")
    if choices:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(label, callback_data=sign_choice(keyring, choice))
                    for choice, label in row
                ]
                for row in choices
            ]
        )
    keyboard = payload.get("keyboard")
    if keyboard == "remove":
        return ReplyKeyboardRemove()
    if isinstance(keyboard, list):
        return ReplyKeyboardMarkup(keyboard, resize_keyboard=True, is_persistent=True)
    return None


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram told us to wait."""
    retry = error.retry_after
    return retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)


def _sent_before_failing(error: TelegramError) -> bool:
    """Whether the request may have reached Telegram before the error."""
    return not isinstance(error.__cause__, _NOT_SENT)


class TelegramOutbound:
    """The Telegram side of the sender (bot.delivery.results.OutboundChannel)."""

    def __init__(self, bot: Bot, keyring: Keyring) -> None:
        self.bot = bot
        self.keyring = keyring

    async def send(self, item: ClaimedRow, never_twice: Collection[str] = ()) -> Outcome:
        """Make the Bot API call for one outbox row and classify what happened."""
        payload: dict[str, Any] = item.payload or {}
        try:
            message_id = await _call(self.bot, item, payload, self.keyring)
        except RetryAfter as error:
            return RetryLater(retry_after_seconds(error), FLOOD_CONTROL)
        except Forbidden as error:
            return Blocked(str(error)[:200])
        except BadRequest as error:
            if "thread not found" in str(error).lower():
                return ThreadGone()
            return Failed(str(error)[:200])
        except (TimedOut, NetworkError) as error:
            if item.kind in never_twice and _sent_before_failing(error):
                return Unknown(type(error).__name__)
            return RetryLater(0, type(error).__name__)
        return Delivered(message_id)

    async def create_thread(self, chat_id: int, title: str) -> int:
        """A forum topic for one participant."""
        created = await self.bot.create_forum_topic(chat_id=chat_id, name=title)
        return created.message_thread_id


def _sendable(text: object) -> str | None:
    """Text Telegram can carry: lone surrogates (broken UTF-16 from a client) become �."""
    return clean(text) if isinstance(text, str) and text else None


async def _call(
    bot: Bot, item: ClaimedRow, payload: dict[str, Any], keyring: Keyring
) -> int | None:
    thread = item.message_thread_id or None
    chat = item.chat_id
    match item.action:
        case Action.COPY:
            copied = await bot.copy_message(
                chat_id=chat,
                from_chat_id=payload["from_chat_id"],
                message_id=payload["message_id"],
                caption=_sendable(payload.get("caption")),
                message_thread_id=thread,
            )
            return copied.message_id
        case Action.THREAD_DELETE:
            await bot.delete_forum_topic(chat, payload["message_thread_id"])
            return None
        case Action.MESSAGE_DELETE:
            await bot.delete_message(chat, payload["message_id"])
            return None
        case Action.MEMBER_REMOVE:
            await bot.ban_chat_member(chat, payload["user_id"])
            return None
        case Action.MEMBER_RESTORE:
            await bot.unban_chat_member(chat, payload["user_id"], only_if_banned=True)
            return None
        case Action.THREAD_TITLE:
            await bot.edit_forum_topic(chat, payload["message_thread_id"], name=payload["name"])
            return None
        case Action.EDIT:
            # Without reply_markup Telegram removes the buttons: an edit keeps the ones the
            # payload still has (a copy's Reply) and drops those that no longer apply.
            buttons = render_markup(payload, keyring)
            await bot.edit_message_text(
                chat_id=chat,
                message_id=payload["message_id"],
                text=_sendable(payload["text"]) or "…",
                reply_markup=buttons if isinstance(buttons, InlineKeyboardMarkup) else None,
            )
            return int(payload["message_id"])
    markup = render_markup(payload, keyring)
    attachment = payload.get("attachment")
    if attachment:
        sent = await bot.send_document(
            chat_id=chat,
            document=InputFile(
                attachment["content"].encode("utf-8"), filename=attachment["filename"]
            ),
            caption=_sendable(payload.get("text")),
            reply_markup=markup,
            message_thread_id=thread,
        )
        return sent.message_id
    reply_to = payload.get("reply_to")
    sent = await bot.send_message(
        chat_id=chat,
        text=_sendable(payload["text"]) or "…",
        reply_markup=markup,
        message_thread_id=thread,
        reply_parameters=(
            ReplyParameters(int(reply_to), allow_sending_without_reply=True)
            if isinstance(reply_to, int)
            else None
        ),
    )
    return sent.message_id
