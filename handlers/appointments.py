"""Appointments: /appointments, the keyboard button, confirmation and calendar buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
)

from bot import appointments
from db.models import Participant
from handlers.common import button, keyboard_filter, participant_only, reply, runtime_of, scope


@participant_only
async def show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """Upcoming appointments in the participant's language and local time."""
    current = scope()
    zone = runtime_of(context).settings.tz
    reply(await appointments.list_upcoming(current.session, participant, current.now, zone))


@participant_only
async def press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant
) -> None:
    """*I'll be there*, *I can't make it*, *Skip* or *Add to calendar*."""
    current, pressed = scope(), button()
    zone = runtime_of(context).settings.tz
    reply(await appointments.choose(current.session, participant, pressed, current.now, zone))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Appointment handlers."""
    application.add_handler(CommandHandler("appointments", show))
    application.add_handler(MessageHandler(keyboard_filter("appointments"), show))
    application.add_handler(CallbackQueryHandler(press, pattern=f"^{appointments.FLOW}:"))
