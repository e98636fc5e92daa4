"""The one place that turns outbox rows into Bot API calls and Telegram errors into outcomes.

The rest of Oprit reasons in `Delivered`, `Blocked`, `RetryLater`, `ThreadGone` and
`Failed`; only this module knows python-telegram-bot's exceptions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.crypto import Keyring
from bot.flows import clean
from db.models import OutboxItem

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


@dataclass(frozen=True)
class ThreadGone:
    """The forum topic was deleted; the caller recreates it."""


@dataclass(frozen=True)
class Failed:
    """Telegram refused the message for good (bad request); never retried in a loop."""

    reason: str


Outcome = Delivered | Blocked | RetryLater | ThreadGone | Failed


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


async def send(bot: Bot, item: OutboxItem, keyring: Keyring) -> Outcome:
    """Make the Bot API call for one outbox row and classify what happened."""
    payload: dict[str, Any] = item.payload or {}
    try:
        message_id = await _call(bot, item, payload, keyring)
    except RetryAfter as error:
        retry = error.retry_after
        seconds = retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
        return RetryLater(seconds, "flood control")
    except Forbidden as error:
        return Blocked(str(error)[:200])
    except BadRequest as error:
        if "thread not found" in str(error).lower():
            return ThreadGone()
        return Failed(str(error)[:200])
    except (TimedOut, NetworkError) as error:
        return RetryLater(0, type(error).__name__)
    return Delivered(message_id)


def _sendable(text: object) -> str | None:
    """Text Telegram can carry: lone surrogates (broken UTF-16 from a client) become �."""
    return clean(text) if isinstance(text, str) and text else None


async def _call(
    bot: Bot, item: OutboxItem, payload: dict[str, Any], keyring: Keyring
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
    sent = await bot.send_message(
        chat_id=item.chat_id,
        text=_sendable(payload["text"]) or "…",
        reply_markup=markup,
        message_thread_id=thread,
    )
    return sent.message_id
