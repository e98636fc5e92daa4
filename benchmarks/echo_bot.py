"""The framework's ceiling: a minimal python-telegram-bot echo bot.

PTB's normal `Application` with its `Updater` polling, one handler that answers every text
with the same text. No database, no rate limiter. Run as a process by the throughput
scenario with OPRIT_BOT_TOKEN and OPRIT_TELEGRAM_API_URL pointing at the local Telegram.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text with itself."""
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


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
