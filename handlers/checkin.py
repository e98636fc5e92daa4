"""Check-in: /checkin, the keyboard button, and the check-in buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import checkin
from db.models import Participant
from handlers.common import button, keyboard_filter, participant_only, reply, scope


@participant_only
async def start(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """Start or continue a check-in."""
    current = scope()
    reply(await checkin.start(current.session, participant, current.now))


@participant_only
async def press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """A mood or life-domain button."""
    current, pressed = scope(), button()
    reply(await checkin.choose(current.session, participant, pressed, current.now))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Check-in handlers."""
    application.add_handler(CommandHandler("checkin", start))
    application.add_handler(MessageHandler(keyboard_filter("checkin"), start))
    application.add_handler(CallbackQueryHandler(press, pattern=f"^{checkin.FLOW}:"))
