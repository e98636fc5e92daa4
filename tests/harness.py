"""An in-process Oprit driven step by step against the local Telegram.

`pump()` does what the running bot does, but deterministically: one getUpdates round
(through the real polling code), processing of every stored update through the real
Application, and sending every due outbox row. No sleeping, no background tasks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from bot.app import AnyApplication, build_application, inbox_processor, open_runtime
from bot.channels.telegram.calls import TelegramOutbound
from bot.channels.telegram.polling import fetch_once
from bot.delivery import sender as sender_module
from bot.delivery.sender import OutboxSender
from bot.engine import scheduler
from bot.engine.inbox import InboxProcessor
from bot.localtelegram import LocalTelegram
from bot.runtime import Runtime
from bot.services import admin, broadcasts
from bot.services.invites import create_invite
from db import people
from db.enums import Channel
from tests.clock import ManualClock
from tests.conftest import TEST_TOKEN, make_settings
from tests.e2e.conversation import TelegramUser


class Harness:
    """The real application wired to a fake Telegram, a real database and a manual clock."""

    def __init__(
        self, api: LocalTelegram, runtime: Runtime, application: AnyApplication, clock: ManualClock
    ) -> None:
        self.api = api
        self.runtime = runtime
        self.application = application
        self.clock = clock
        self.processor: InboxProcessor = inbox_processor(application)
        self.sender = OutboxSender(
            runtime, {Channel.TELEGRAM: TelegramOutbound(application.bot, runtime.keyring)}
        )
        self._offset: int | None = None
        self._next_user = 7_000_001

    async def pump(self, rounds: int = 3) -> None:
        """Fetch pushed updates, process them and send everything that is due."""
        for _ in range(rounds):
            self._offset = await fetch_once(
                self.runtime, self.application.bot, self._offset, 0, self.processor
            )
            await self.processor.process_pending()
            while await self.sender.send_due():
                pass

    async def advance(self, delta: timedelta) -> None:
        """Move the clock and let due work happen."""
        self.clock.advance(delta)
        await self.pump()

    def user(self, first_name: str = "Sam", language_code: str = "en") -> TelegramUser:
        """A new Telegram user with a fresh id."""
        self._next_user += 1
        return TelegramUser(
            self.api, self._next_user, first_name=first_name, language_code=language_code
        )

    async def register(
        self,
        user: TelegramUser,
        *,
        name: str | None = "Test Deelnemer",
        language: str = "English",
        officer_telegram_id: int | None = None,
    ) -> int:
        """Sign a user up through the real buttons; returns the participant id."""
        async with self.runtime.sessions() as session, session.begin():
            invite = await create_invite(
                session,
                now=self.clock.now(),
                valid_for=timedelta(days=14),
                name=name,
                officer_telegram_id=officer_telegram_id,
            )
        user.send(f"/start {invite.code}")
        await self.pump()
        user.press(language)
        await self.pump()
        user.press("👍")
        await self.pump()
        async with self.runtime.sessions() as session:
            participant = await people.participant_by_telegram_id(session, user.chat_id)
        assert participant is not None and participant.status == "active"
        return participant.id

    async def add_staff(
        self,
        user: TelegramUser,
        role: str = "officer",
        *,
        backup: bool = False,
        language: str = "en",
        name: str = "Officer Test",
    ) -> int:
        """Add a staff member who has opened the bot."""
        self.api.open_chat(user.chat_id, user.user["first_name"])
        async with self.runtime.sessions() as session, session.begin():
            staff = await admin.add_staff(
                session,
                telegram_id=user.chat_id,
                role=role,
                name=name,
                backup=backup,
                language=language,
                now=self.clock.now(),
            )
            staff.reachable = True
            return staff.id

    async def broadcast(self, text: str) -> None:
        """A coordinator's broadcast to everyone in Dutch, started now (not yet sent)."""
        async with self.runtime.sessions() as session, session.begin():
            await broadcasts.create(
                session,
                texts={"nl": text},
                cohort="all",
                send_at=self.clock.now(),
                default_language="nl",
                now=self.clock.now(),
            )
        await scheduler.run_broadcasts(self.runtime)

    async def feed(self, update: dict[str, Any]) -> None:
        """Push one raw update (an `Update.de_json`-able dict) and process it."""
        self.api.push_update(update)
        await self.pump()


# Telegram allows 20 messages a minute into a group; tests keep the 20 but shrink the
# minute (for the local Telegram and the bot alike) so forum tests run in seconds.
TEST_GROUP_WINDOW = 2.0


@asynccontextmanager
async def running_harness(
    database_url: str, clock: ManualClock, **settings: Any
) -> AsyncIterator[Harness]:
    """Start the fake API and the application; stop both afterwards."""
    real_window = sender_module.GROUP_WINDOW_SECONDS
    sender_module.GROUP_WINDOW_SECONDS = TEST_GROUP_WINDOW
    try:
        async with _running_harness(database_url, clock, **settings) as harness:
            yield harness
    finally:
        sender_module.GROUP_WINDOW_SECONDS = real_window


@asynccontextmanager
async def _running_harness(
    database_url: str, clock: ManualClock, **settings: Any
) -> AsyncIterator[Harness]:
    with LocalTelegram(token=TEST_TOKEN, group_window_seconds=TEST_GROUP_WINDOW) as api:
        config = make_settings(database_url=database_url, telegram_api_url=api.base_url, **settings)
        runtime = await open_runtime(config, clock)
        application = build_application(config, runtime)
        await application.initialize()
        runtime.bot_username = application.bot.username
        harness = Harness(api, runtime, application, clock)
        try:
            yield harness
        finally:
            await harness.sender.stop_sending()
            await application.shutdown()
            await runtime.engine.dispose()
            api.assert_no_violations()
