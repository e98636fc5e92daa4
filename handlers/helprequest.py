"""Help requests: /request, the *I need help* button, and the request buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import helprequest
from db.models import Participant
from handlers.common import button, keyboard_filter, participant_only, reply, scope


@participant_only
async def start(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """Show open requests and start a new one."""
    current = scope()
    reply(await helprequest.start(current.session, participant, current.now))


@participant_only
async def press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """A domain, Send or Cancel button."""
    current, pressed = scope(), button()
    reply(await helprequest.choose(current.session, participant, pressed, current.now))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Help-request handlers."""
    application.add_handler(CommandHandler("request", start))
    application.add_handler(MessageHandler(keyboard_filter("help"), start))
    application.add_handler(CallbackQueryHandler(press, pattern=f"^{helprequest.FLOW}:"))
