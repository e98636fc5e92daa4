"""The dashboard served for a test: the real aiohttp app on a free port of 127.0.0.1, over
a running harness (the same runtime, database and fake Bot API), and a staff member's
browser session made through a real one-time link."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiohttp

from bot.config import ListenAddress
from bot.services import web_login
from bot.web.app import start
from db import people
from tests.harness import Harness

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@asynccontextmanager
async def served(h: Harness) -> AsyncIterator[str]:
    """The dashboard's base URL while the block runs."""
    runner = await start(h.runtime, ListenAddress("127.0.0.1", 0))
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def login_path(h: Harness, telegram_id: int) -> str:
    """A fresh one-time link's path, as `oprit staff login-link` would make it."""
    async with h.runtime.sessions() as session, session.begin():
        staff = await people.staff_by_telegram_id(session, telegram_id)
        assert staff is not None
        link = await web_login.link_for(session, staff, h.clock.now(), h.runtime.settings)
    return urlsplit(link.url).path


def browser() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1 and does not follow redirects itself."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def log_in(client: aiohttp.ClientSession, base: str, h: Harness, telegram_id: int) -> None:
    """Open a link and press its button, as a staff member would."""
    path = await login_path(h, telegram_id)
    async with client.get(base + path) as page:
        assert page.status == 200
    async with client.post(base + path, allow_redirects=False) as answer:
        assert answer.status == 303, await answer.text()


async def csrf_of(client: aiohttp.ClientSession, url: str) -> str:
    """The CSRF token in the forms of a page."""
    async with client.get(url) as page:
        found = CSRF.search(await page.text())
    assert found is not None
    return found.group(1)
