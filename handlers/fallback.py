"""What is left after the feature handlers: /help, unknown commands, free messages, old buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import dispatch, guide, outbox
from handlers import officer
from handlers.common import media_file_id, message_kind, reply, scope


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: four short lines for participants, a command list for staff."""
    current = scope()
    reply([guide.staff_help(current.staff.role) if current.staff else guide.participant_help()])


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command we do not know: say so kindly and show what works."""
    current = scope()
    help_reply = guide.staff_help(current.staff.role) if current.staff else guide.participant_help()
    reply([guide.unknown_command_reply(), help_reply])


async def free_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text, voice, photo or anything else: triaged, then to the waiting flow or acknowledged."""
    current = scope()
    message = update.effective_message
    if current.staff is not None:
        await officer.staff_message(update, context, current.staff)
        return
    if current.participant is None or message is None:
        return
    answer = await dispatch.free_message(
        current.session,
        current.participant,
        message_id=current.stored_message_id,
        text=message.text or message.caption,
        kind=message_kind(message) if update.message else "edit",
        media_file_id=media_file_id(message),
        now=current.now,
    )
    reply(answer.urgent, priority=outbox.PRIORITY_SAFETY)
    reply(answer.replies)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button nobody handled: forged, garbled or from a flow that no longer exists."""
    reply([guide.stale_button_reply()])


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Registered last so feature handlers see updates first."""
    application.add_handler(CommandHandler("help", show_help))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGES & ~filters.COMMAND, free_message)
    )
    application.add_handler(CallbackQueryHandler(stale_button))
