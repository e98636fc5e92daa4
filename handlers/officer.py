"""Officer and coordinator commands, alert buttons, and replies that go to participants."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import broadcast_flow, guide, officer, officer_appointment
from db.models import Staff
from handlers.common import button, reply, runtime_of, scope


def staff_only(
    handler: Callable[[Update, ContextTypes.DEFAULT_TYPE, Staff], Awaitable[None]],
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Run `handler` for staff; a participant gets the normal participant help."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        current = scope()
        if current.staff is None:
            if current.participant is not None:
                reply([guide.participant_help()])
            return
        await handler(update, context, current.staff)

    return wrapper


@staff_only
async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff) -> None:
    """/invite [name]."""
    current = scope()
    name = " ".join(context.args or []) or None
    bot_username = runtime_of(context).bot_username
    reply(await officer.invite(current.session, staff, name, bot_username, current.now))


@staff_only
async def participants(update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff) -> None:
    """/participants."""
    current = scope()
    zone = runtime_of(context).settings.tz
    reply(await officer.participants_page(current.session, staff, 0, current.now, zone))


@staff_only
async def page(update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff) -> None:
    """◀ / ▶ under /participants."""
    current, pressed = scope(), button()
    number = int(pressed.value) if pressed.value.isdigit() else 0
    zone = runtime_of(context).settings.tz
    reply(await officer.participants_page(current.session, staff, number, current.now, zone))


@staff_only
async def case(update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff) -> None:
    """/case NAME_OR_ID."""
    current = scope()
    zone = runtime_of(context).settings.tz
    query = " ".join(context.args or [])
    reply(await officer.case(current.session, staff, query, current.now, zone))


@staff_only
async def handled(update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff) -> None:
    """/handled: open alerts with their buttons."""
    reply(await officer.open_alerts(scope().session, staff))


@staff_only
async def appointment(update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff) -> None:
    """/appointment: the guided plan."""
    current = scope()
    reply(await officer_appointment.start(current.session, staff, current.now))


@staff_only
async def appointment_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff
) -> None:
    """Buttons of the guided plan."""
    current, pressed = scope(), button()
    settings = runtime_of(context).settings
    reply(
        await officer_appointment.choose(
            current.session, staff, pressed, current.now, settings.tz, settings.reminder_offsets
        )
    )


@staff_only
async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff) -> None:
    """/broadcast: the guided broadcast (coordinators)."""
    current = scope()
    language = runtime_of(context).settings.default_language
    reply(await broadcast_flow.start(current.session, staff, current.now, language))


@staff_only
async def broadcast_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff
) -> None:
    """Buttons of the guided broadcast."""
    current, pressed = scope(), button()
    settings = runtime_of(context).settings
    reply(
        await broadcast_flow.choose(
            current.session, staff, pressed, current.now, settings.tz, settings.default_language
        )
    )


@staff_only
async def alert_button(update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff) -> None:
    """*Reply*, *Acknowledge* or *Resolved* under an alert."""
    current, pressed = scope(), button()
    chat_id = current.chat_id if current.chat_id is not None else staff.telegram_id
    reply(await officer.alert_action(current.session, staff, pressed, chat_id, current.now))


async def staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE, staff: Staff) -> None:
    """A staff member's own message: a reply for a participant, a planning answer, or help."""
    current, message = scope(), update.effective_message
    if message is None or update.edited_message is not None:
        return
    text = message.text or message.caption
    settings = runtime_of(context).settings
    in_forum = message.chat.id == settings.officer_chat_id
    thread = message.message_thread_id if in_forum and message.is_topic_message else None
    replied = message.reply_to_message.message_id if message.reply_to_message else None
    target = await officer.relay_target(
        current.session,
        staff,
        chat_id=message.chat.id,
        replied_message_id=None if in_forum else replied,
        forum_thread_id=thread,
        in_forum=in_forum,
        now=current.now,
        reply_window=settings.reply_window,
    )
    if target.verdict is officer.RelayVerdict.NONE:
        if in_forum:
            return  # the general topic or a staff topic: staff talking among themselves
        if text:
            for flow in (officer_appointment.answer, broadcast_flow.answer):
                answered = await flow(current.session, staff, text, current.now, settings.tz)
                if answered is not None:
                    reply(answered)
                    return
        reply([guide.staff_help(staff.role)])
        return
    if target.participant is None:
        reply([officer.relay_refused(target.verdict, settings.reply_window)])
        return
    reply(
        await officer.relay(
            current.session,
            staff,
            target.participant,
            text=text,
            source_chat_id=message.chat.id,
            source_message_id=message.message_id,
            source_thread_id=thread,
            has_media=message.text is None,
            now=current.now,
        )
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Staff commands and buttons."""
    application.add_handler(CommandHandler("invite", invite))
    application.add_handler(CommandHandler("participants", participants))
    application.add_handler(CommandHandler("case", case))
    application.add_handler(CommandHandler("handled", handled))
    application.add_handler(CommandHandler("appointment", appointment))
    application.add_handler(CallbackQueryHandler(alert_button, pattern="^al:"))
    application.add_handler(CallbackQueryHandler(page, pattern="^pp:"))
    application.add_handler(CallbackQueryHandler(appointment_button, pattern="^oa:"))
    application.add_handler(CommandHandler("broadcast", broadcast))
    application.add_handler(CallbackQueryHandler(broadcast_button, pattern="^bc:"))
