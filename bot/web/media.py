"""A participant's photo or file, fetched from Telegram when a staff member opens it
(Oprit keeps only the file id, never the bytes): getFile, then the file URL, over plain
HTTP (the web layer does not import the Telegram library), at most MAX_BYTES."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp

from bot.config import Settings

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024  # what the Bot API lets a bot download
TIMEOUT = aiohttp.ClientTimeout(total=20)
# Shown in the page itself; anything else is offered as a download.
INLINE = ("image/jpeg", "image/png", "image/webp", "image/gif")


@dataclass(frozen=True)
class File:
    """A downloaded file."""

    data: bytes
    mime_type: str

    @property
    def inline(self) -> bool:
        """Whether the browser may show it in the page."""
        return self.mime_type in INLINE


async def fetch(settings: Settings, file_id: str) -> File | None:
    """The file behind a Telegram file id, or None (no token, gone, too big, offline)."""
    if not settings.bot_token:
        return None
    api = settings.telegram_api_url
    files = api.replace("/bot", "/file/bot")
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as client:
            async with client.post(
                f"{api}{settings.bot_token}/getFile", json={"file_id": file_id}
            ) as answer:
                found = await answer.json(content_type=None)
            result = found.get("result") if isinstance(found, dict) and found.get("ok") else None
            if not isinstance(result, dict):
                return None
            path = result.get("file_path")
            if not isinstance(path, str) or int(result.get("file_size") or 0) > MAX_BYTES:
                return None
            async with client.get(f"{files}{settings.bot_token}/{path}") as download:
                if download.status != 200:
                    return None
                data = await download.content.read(MAX_BYTES + 1)
                mime_type = download.content_type
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        log.warning("media fetch failed", extra={"error": type(error).__name__})
        return None
    if len(data) > MAX_BYTES:
        return None
    return File(data, mime_type)
