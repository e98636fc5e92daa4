"""Runs first for every update: who is this, which language, and store what they sent.

Staff are recognised by their database row (read fresh every update). A participant's
message is stored before any feature handler runs, so nothing they send is lost even if
a handler fails. Unknown users and people who have not yet consented get a kind answer
and nothing is stored but an audit line.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot import guide, officer_alerts, registration, staff_session
from bot import inbound as inbound_service
from bot.i18n import normalise_language, set_language
from bot.telegram_io import verify_callback
from db import people
from handlers.common import parse_inbound, reply, runtime_of, scope


async def identify(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Resolve the sender, pick the language, verify buttons and store the message."""
    current = scope()
    runtime = runtime_of(context)
    user, chat = update.effective_user, update.effective_chat
    message = update.effective_message
    if (
        update.message is not None
        and chat is not None
        and chat.id == runtime.settings.officer_chat_id
        and message is not None
        and message.sender_chat is not None
        and message.sender_chat.id == chat.id
    ):
        # An admin posting as the group cannot be checked against the staff list.
        current.chat_id = chat.id
        current.thread_id = message.message_thread_id if message.is_topic_message else None
        reply([guide.anonymous_not_relayed()])
        raise ApplicationHandlerStop
    if user is None or user.is_bot or update.channel_post or update.edited_channel_post:
        raise ApplicationHandlerStop
    current.telegram_id = user.id
    current.chat_id = chat.id if chat is not None else user.id
    if message is not None and message.is_topic_message:
        current.thread_id = message.message_thread_id
    if chat is not None and chat.type != "private" and chat.id != runtime.settings.officer_chat_id:
        raise ApplicationHandlerStop
    query = update.callback_query
    if query is not None:
        current.after_commit.append(query.answer)
        current.choice = verify_callback(runtime.keyring, query.data)
    session = current.session
    current.staff = await people.staff_by_telegram_id(session, user.id)
    if current.staff is not None:
        set_language(current.staff.language)
        staff_session.first_contact(session, current.staff, current.now)
        return
    participant = await people.participant_by_telegram_id(session, user.id)
    current.participant = participant
    if chat is not None and chat.type != "private":
        raise ApplicationHandlerStop
    if participant is None:
        set_language(normalise_language(user.language_code, runtime.settings.default_language))
        if not _is_start(update):
            reply([registration.unregistered_reply()])
            raise ApplicationHandlerStop
        return
    set_language(participant.language)
    if query is not None and current.choice is None:
        reply([guide.stale_button_reply()])
        raise ApplicationHandlerStop
    if participant.status == "registering":
        if not (_is_start(update) or (current.choice or "").startswith(f"{registration.FLOW}:")):
            reply([registration.awaiting_consent_reply()])
            raise ApplicationHandlerStop
        return
    parsed = parse_inbound(update)
    if parsed is None:
        raise ApplicationHandlerStop
    stored = await inbound_service.record(session, participant.id, parsed, current.now)
    if stored is None:
        raise ApplicationHandlerStop
    current.stored_message_id = stored.id
    await officer_alerts.mirror_message(session, participant, stored, current.now)
    if participant.status == "unreachable":
        participant.status = "active"


def _is_start(update: Update) -> bool:
    text = update.message.text if update.message else None
    return bool(text) and (text or "").split(maxsplit=1)[0].split("@")[0] == "/start"


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Run the gate before every other handler."""
    application.add_handler(TypeHandler(Update, identify), group=-1)
