"""Fixtures every end-to-end test shares: the local Telegram (checked for violations at the
end of each test) and a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.localtelegram import LocalTelegram
from tests.conftest import TEST_TOKEN
from tests.postgres_server import ThrowawayPostgres


@pytest.fixture
def api() -> Iterator[LocalTelegram]:
    """The fake Telegram; any call that breaks the spec or a limit fails the test."""
    with LocalTelegram(token=TEST_TOKEN) as fake:
        yield fake
        fake.assert_no_violations()


@pytest.fixture
def pg_database(postgres_server: ThrowawayPostgres) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL server."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1])
