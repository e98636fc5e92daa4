"""Put many signed-up participants straight into a database, for load and crash tests
(signing up hundreds of people through the buttons would only make the tests slow)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import open_runtime
from bot.localtelegram import LocalTelegram
from db import people
from db.models import Participant
from tests.conftest import TEST_KEY, make_settings

FIRST_TELEGRAM_ID = 8_000_001


def database_url(workdir: Path) -> str:
    """The database `oprit` uses when started in `workdir` with the default settings."""
    return f"sqlite+aiosqlite:///{workdir / 'data' / 'oprit.db'}"


def seed_participants(
    workdir: Path,
    count: int,
    languages: tuple[str, ...] = ("nl",),
    url: str | None = None,
    officer_telegram_id: int | None = None,
    api: LocalTelegram | None = None,
) -> list[int]:
    """Create `count` active participants (of one officer, if given); returns their
    Telegram ids. With `api`, their chats are open at the local Telegram (they signed up
    through it earlier)."""

    async def run() -> list[int]:
        runtime = await open_runtime(
            make_settings(database_url=url or database_url(workdir), encryption_key=TEST_KEY)
        )
        try:
            ids = [FIRST_TELEGRAM_ID + number for number in range(count)]
            async with runtime.sessions() as session, session.begin():
                officer = (
                    await people.staff_by_telegram_id(session, officer_telegram_id)
                    if officer_telegram_id
                    else None
                )
                session.add_all(
                    Participant(
                        telegram_id=telegram_id,
                        name=f"Deelnemer {number}",
                        language=languages[number % len(languages)],
                        status="active",
                        officer_id=officer.id if officer else None,
                        created_at=runtime.clock.now(),
                        consent_at=runtime.clock.now(),
                    )
                    for number, telegram_id in enumerate(ids)
                )
            return ids
        finally:
            await runtime.engine.dispose()

    ids = asyncio.run(run())
    for telegram_id in ids if api is not None else []:
        api.open_chat(telegram_id)
    return ids
