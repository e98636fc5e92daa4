"""The participant's own settings: /language, /stop, /privacy."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import account
from db.models import Participant
from handlers.common import button, keyboard_filter, participant_only, reply, runtime_of, scope


@participant_only
async def language(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """Offer every language."""
    current = scope()
    reply(await account.language_menu(current.session, participant, current.now))


@participant_only
async def stop(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """Ask before pausing."""
    current = scope()
    reply(await account.stop_menu(current.session, participant, current.now))


@participant_only
async def privacy(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """Explain what is stored and offer the data."""
    current = scope()
    days = runtime_of(context).settings.retention_days
    reply(await account.privacy(current.session, participant, current.now, days))


@participant_only
async def press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """Language, pause or export buttons."""
    current, pressed = scope(), button()
    reply(await account.choose(current.session, participant, pressed, current.now))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Account handlers."""
    application.add_handler(CommandHandler("language", language))
    application.add_handler(MessageHandler(keyboard_filter("language"), language))
    application.add_handler(CommandHandler("stop", stop))
    application.add_handler(CommandHandler("privacy", privacy))
    application.add_handler(CallbackQueryHandler(press, pattern=f"^{account.FLOW}:"))
