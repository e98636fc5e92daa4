"""Shared fixtures: settings isolated from the environment, databases on SQLite and
PostgreSQL (a throwaway server), a manual clock, and a migrated runtime."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.runtime import Runtime
from tests.clock import ManualClock
from tests.postgres_server import ThrowawayPostgres, server_or_skip

pytest_plugins = ["tests.browser"]

TEST_KEY = "7i-AKmIFVxjz5yGx5wwMPcqmdTojFlb5qXLjkW-Q7r8="
TEST_TOKEN = "123456:TEST-token"

for name in [
    key
    for key in os.environ
    if key.startswith("OPRIT_")
    and key != "OPRIT_REQUIRE_POSTGRES"
    and not key.startswith("OPRIT_TEST_")
]:
    del os.environ[name]


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test: never read from the developer's environment or .env."""
    values: dict[str, Any] = {
        "bot_token": TEST_TOKEN,
        "encryption_key": TEST_KEY,
        "database_url": "sqlite+aiosqlite:///:memory:",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    """One throwaway PostgreSQL server per test run (run as the postgres user under root)."""
    with server_or_skip() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database-facing test runs on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'oprit.db'}"
        return
    server: ThrowawayPostgres = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A file SQLite database for tests that only need the embedded default."""
    return f"sqlite+aiosqlite:///{tmp_path / 'oprit.db'}"


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when a test says so (a Thursday morning in Amsterdam)."""
    return ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))


@pytest.fixture
async def runtime(database_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    """A migrated database with the runtime around it, on SQLite and PostgreSQL."""
    from bot.app import open_runtime

    rt = await open_runtime(make_settings(database_url=database_url), clock)
    try:
        yield rt
    finally:
        await rt.engine.dispose()


# Words that must never reach a log line: the token, participants' names, and texts
# the tests send (crisis words, debts, secrets).
NEVER_LOGGED = (
    TEST_TOKEN,
    "Test Deelnemer",
    "Kim Test",
    "Voorbeeld",
    "ik wil dood",
    "eind aan maken",
    "deurwaarder",
    "GEHEIM",
    "Belastingdienst",
    "heroine",
)


@pytest.fixture(autouse=True)
def logs_hold_no_personal_data(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every log record of every test, formatted as in production, names ids only."""
    import logging

    from bot.logs import JsonFormatter

    caplog.set_level(logging.DEBUG)
    yield
    formatter = JsonFormatter()
    for record in caplog.records:
        if record.name.startswith(("bot", "handlers", "db", "telegram", "httpx")):
            line = formatter.format(record)
            leaked = [word for word in NEVER_LOGGED if word.lower() in line.lower()]
            assert not leaked, f"log line leaks {leaked}: {line[:300]}"
