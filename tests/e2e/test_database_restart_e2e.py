"""End to end: PostgreSQL restarts in the middle of a burst; `oprit run` waits, resumes by
itself, loses nothing, handles nothing twice, and a crisis sent meanwhile still gets its
answer and its alert as soon as the database is back."""

from __future__ import annotations

import asyncio
import importlib
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.localtelegram import LocalTelegram
from tests.conftest import TEST_KEY
from tests.e2e.botprocess import bot_env, free_port, oprit_json, running_bot
from tests.e2e.conversation import TelegramUser
from tests.e2e.seed import seed_participants
from tests.postgres_server import ThrowawayPostgres, server_or_skip

OFFICER = 6_500_001
PEOPLE = 10


@pytest.fixture
def restartable() -> Iterator[ThrowawayPostgres]:
    """A server of its own: the test stops and starts it."""
    with server_or_skip() as server:
        yield server


def _count(url: str, sql: str) -> int:
    asyncpg = importlib.import_module("asyncpg")

    async def run() -> int:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            return int(await connection.fetchval(sql))
        finally:
            await connection.close()

    return asyncio.run(run())


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_database_restart_mid_burst_loses_nothing(
    api: LocalTelegram, restartable: ThrowawayPostgres, tmp_path: Path
) -> None:
    database = restartable.create_database()
    port = free_port()
    env = bot_env(
        api.base_url,
        tmp_path,
        OPRIT_DATABASE_URL=database,
        OPRIT_ENCRYPTION_KEY=TEST_KEY,
        OPRIT_METRICS_LISTEN=f"127.0.0.1:{port}",
    )
    oprit_json(
        env,
        tmp_path,
        *["staff", "add", "--role", "officer", "--name", "Officer", "--telegram-id"],
        str(OFFICER),
    )
    api.open_chat(OFFICER)
    people = seed_participants(tmp_path, PEOPLE, url=database, officer_telegram_id=OFFICER, api=api)
    users = [TelegramUser(api, telegram_id) for telegram_id in people]
    inbound = "SELECT count(*) FROM messages WHERE direction = 'in'"
    with running_bot(env, tmp_path) as process:
        for number in range(5):
            for user in users:
                user.send(f"voor de herstart {number}")
        api.wait_until(lambda: api.confirmed_offset > api.last_update_id(), 30, "first half")

        restartable.pause()
        for number in range(5):
            for user in users:
                user.send(f"tijdens de herstart {number}")
        crisis = users[3].send("ik wil dood, ik kan niet meer")
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            assert _status(f"http://127.0.0.1:{port}/healthz") == 200
            assert _status(f"http://127.0.0.1:{port}/readyz") == 503
            assert process.poll() is None, "the bot must wait for the database, not exit"
            time.sleep(0.5)
        assert api.confirmed_offset <= crisis, "nothing may be acknowledged while unstored"

        restartable.resume()
        api.wait_until_confirmed(crisis, timeout=90)
        safety = api.wait_for_calls(
            "sendMessage",
            timeout=60,
            chat_id=users[3].chat_id,
            predicate=lambda call: call.ok and "113" in str(call.params.get("text")),
        )
        alerts = api.wait_for_calls(
            "sendMessage",
            timeout=60,
            chat_id=OFFICER,
            predicate=lambda call: call.ok and "🔴 KRITIEK" in str(call.params.get("text")),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _count(database, inbound) < PEOPLE * 10 + 1:
            time.sleep(0.3)
        time.sleep(2)  # anything handled twice would show now
        assert process.poll() is None
        assert _status(f"http://127.0.0.1:{port}/readyz") == 200

    assert _count(database, inbound) == PEOPLE * 10 + 1
    assert _count(database, "SELECT count(*) FROM inbox WHERE processed_at IS NULL") == 0
    assert _count(database, "SELECT count(*) FROM inbox WHERE error IS NOT NULL") == 0
    assert len(safety) == 1 and len(alerts) == 1
