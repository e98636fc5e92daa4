"""The Telegram handler: every update, whatever it holds, goes through one handler that
reads it with the Telegram channel's parser and hands the channel-neutral event to the
dispatcher (bot.engine.dispatch), which gates it and routes it through the flow registry.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.telegram.parse import parse
from bot.engine import dispatch
from bot.runtime import current_scope


async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Parse, dispatch; a pressed button's spinner stops once the answer is committed."""
    scope = current_scope()
    if update.callback_query is not None:
        scope.after_commit.append(update.callback_query.answer)
    event = parse(update.to_dict())
    if event is not None:
        await dispatch.handle(scope, event)


def register_all(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The one handler for every update."""
    application.add_handler(TypeHandler(Update, on_update))
