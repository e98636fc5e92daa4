"""A local Telegram (Bot API server on 127.0.0.1) for the tests, the benchmarks and the demo.

Only the demo command and the tests import it: the bot reaches it over HTTP through
OPRIT_TELEGRAM_API_URL exactly as it reaches Telegram.
"""

from bot.localtelegram.markup import format_text, utf16_len
from bot.localtelegram.server import LocalTelegram
from bot.localtelegram.spec import (
    ApiError,
    BotApiSpec,
    Call,
    ChatId,
    JsonDict,
    UploadedFile,
    max_calls_in_window,
)

__all__ = [
    "ApiError",
    "BotApiSpec",
    "Call",
    "ChatId",
    "JsonDict",
    "LocalTelegram",
    "UploadedFile",
    "format_text",
    "max_calls_in_window",
    "utf16_len",
]
