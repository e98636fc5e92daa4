"""The framework's ceiling: a minimal python-telegram-bot echo bot.

PTB's normal `Application` with its `Updater` polling, one handler that answers texts with
the same text. No database, no rate limiter. Run as a process by the throughput scenario
with OPRIT_BOT_TOKEN and OPRIT_TELEGRAM_API_URL pointing at the local Telegram.

BENCH_ECHO_REPLIES=first-per-sender answers only a sender's first message, the outbound
work Oprit does for a backlog (one acknowledgement per sender), so the two compare equal
work; `every` (the default) answers every message. The text DONE_TEXT is always answered:
updates are handled in order, so its answer says every earlier one was handled.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

DONE_TEXT = "einde van de stapel"
FIRST_PER_SENDER = "first-per-sender"
_answered: set[int] = set()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text with itself (only a sender's first in first-per-sender mode)."""
    message = update.message
    if message is None or message.text is None:
        return
    once = os.environ.get("BENCH_ECHO_REPLIES") == FIRST_PER_SENDER
    if once and message.chat_id in _answered and message.text != DONE_TEXT:
        return
    _answered.add(message.chat_id)
    await message.reply_text(message.text)


def main() -> None:
    """Poll until SIGTERM."""
    application = (
        Application.builder()
        .token(os.environ["OPRIT_BOT_TOKEN"])
        .base_url(os.environ["OPRIT_TELEGRAM_API_URL"])
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
