"""/start with an invite code, the language choice and the consent buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import registration
from db import people
from handlers.common import button, reply, runtime_of, scope


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start [CODE]: register with an invite, or greet staff and returning participants."""
    current, user = scope(), update.effective_user
    assert user is not None
    code = context.args[0] if context.args else None
    replies = await registration.start(
        current.session,
        telegram_id=user.id,
        first_name=user.first_name,
        telegram_language=user.language_code,
        code=code,
        default_language=runtime_of(context).settings.default_language,
        now=current.now,
    )
    if current.participant is None and current.staff is None:
        current.participant = await people.participant_by_telegram_id(current.session, user.id)
    reply(replies)


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language or consent button pressed during sign-up."""
    current = scope()
    choice = button()
    if current.participant is None:
        return
    if current.participant.status != "registering":
        reply([registration.already_done_reply()])
        return
    reply(await registration.choose(current.session, current.participant, choice, current.now))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Sign-up handlers."""
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(choose, pattern=f"^{registration.FLOW}:"))
