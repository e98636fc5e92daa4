"""The one place that turns outbox rows into Bot API calls and Telegram errors into outcomes.

The rest of Oprit reasons in `Delivered`, `Blocked`, `RetryLater`, `ThreadGone`, `Unknown`
and `Failed`; only this module knows python-telegram-bot's exceptions.

A timeout or a broken connection after the request left is *ambiguous*: Telegram may have
delivered the message. Rows that must never go twice (broadcasts) then end as `Unknown`;
every other row is tried again (at least once beats never for an alert or a reminder).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
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

from bot.crypto import Keyring
from bot.flows import clean
from db.outbox import ClaimedRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivered:
    """Telegram accepted the message."""

    message_id: int | None


@dataclass(frozen=True)
class Blocked:
    """The person blocked the bot or never opened a chat with it."""

    reason: str


@dataclass(frozen=True)
class RetryLater:
    """Flood control or a passing fault: try again after `seconds`."""

    seconds: float
    reason: str

    @property
    def flood_control(self) -> bool:
        """Telegram said to wait: nothing else may go to that chat meanwhile."""
        return self.reason == FLOOD_CONTROL


@dataclass(frozen=True)
class Unknown:
    """The request left, but no answer came: it may have been delivered. Only for rows
    that must never go twice; they are counted and never sent again."""

    reason: str


@dataclass(frozen=True)
class ThreadGone:
    """The forum topic was deleted; the caller recreates it."""


@dataclass(frozen=True)
class Failed:
    """Telegram refused the message for good (bad request); never retried in a loop."""

    reason: str


Outcome = Delivered | Blocked | RetryLater | ThreadGone | Unknown | Failed
FLOOD_CONTROL = "flood control"
# httpx errors raised before a request was sent: always safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def sign_callback(keyring: Keyring, choice: str) -> str:
    """Callback data = choice id + a MAC, so a client cannot forge or alter it."""
    return f"{choice}:{keyring.sign(choice)}"


def verify_callback(keyring: Keyring, data: str | None) -> str | None:
    """The choice id inside genuine callback data, or None for forged/garbled data."""
    if not data or len(data.encode()) > 64:
        return None
    choice, _sep, signature = data.rpartition(":")
    if not choice or not keyring.verify(choice, signature):
        return None
    return choice


def render_markup(
    payload: dict[str, Any], keyring: Keyring
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """Choices become inline buttons; the participant keyboard a persistent reply keyboard."""
    choices = payload.get("choices")
    if choices:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(label, callback_data=sign_callback(keyring, choice))
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


async def send(
    bot: Bot, item: ClaimedRow, keyring: Keyring, never_twice: Collection[str] = ()
) -> Outcome:
    """Make the Bot API call for one outbox row and classify what happened; a row of a
    kind in `never_twice` whose request may have arrived ends as `Unknown`."""
    payload: dict[str, Any] = item.payload or {}
    try:
        message_id = await _call(bot, item, payload, keyring)
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


def _sendable(text: object) -> str | None:
    """Text Telegram can carry: lone surrogates (broken UTF-16 from a client) become �."""
    return clean(text) if isinstance(text, str) and text else None


async def _call(
    bot: Bot, item: ClaimedRow, payload: dict[str, Any], keyring: Keyring
) -> int | None:
    thread = item.message_thread_id or None
    if item.method == "copyMessage":
        copied = await bot.copy_message(
            chat_id=item.chat_id,
            from_chat_id=payload["from_chat_id"],
            message_id=payload["message_id"],
            caption=_sendable(payload.get("caption")),
            message_thread_id=thread,
        )
        return copied.message_id
    if item.method == "closeForumTopic":
        await bot.close_forum_topic(item.chat_id, payload["message_thread_id"])
        return None
    if item.method == "deleteForumTopic":
        await bot.delete_forum_topic(item.chat_id, payload["message_thread_id"])
        return None
    if item.method == "deleteMessage":
        await bot.delete_message(item.chat_id, payload["message_id"])
        return None
    if item.method == "banChatMember":
        await bot.ban_chat_member(item.chat_id, payload["user_id"])
        return None
    if item.method == "unbanChatMember":
        await bot.unban_chat_member(item.chat_id, payload["user_id"], only_if_banned=True)
        return None
    if item.method == "editForumTopic":
        await bot.edit_forum_topic(item.chat_id, payload["message_thread_id"], name=payload["name"])
        return None
    if item.method == "editMessageText":
        await bot.edit_message_text(
            chat_id=item.chat_id,
            message_id=payload["message_id"],
            text=_sendable(payload["text"]) or "…",
        )
        return int(payload["message_id"])
    markup = render_markup(payload, keyring)
    attachment = payload.get("attachment")
    if attachment:
        sent = await bot.send_document(
            chat_id=item.chat_id,
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
        chat_id=item.chat_id,
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
