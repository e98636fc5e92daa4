"""What the demo knows: the local Telegram, the demo clock, the running bot's runtime and
the people on the page (each a Telegram account at the local Telegram)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, TypeVar

from bot.demo.clock import DemoClock
from bot.localtelegram import JsonDict, LocalTelegram
from bot.localtelegram.users import LocalUser
from bot.runtime import Runtime
from bot.services.invites import create_invite
from db import people

T = TypeVar("T")
Kind = Literal["participant", "officer", "coordinator", "group"]

GROUP_ID = -1009000000001
GROUP_TITLE = "Oprit · officers"
OFFICER_ID = 7100001
COORDINATOR_ID = 7100002
FIRST_PARTICIPANT_ID = 7200001
WAIT_SECONDS = 15.0


class DemoNotReady(RuntimeError):
    """The bot has not started yet (or a step it should take did not happen in time)."""


@dataclass
class DemoChat:
    """One phone on the page: a chat and who holds the phone."""

    id: int
    title: str
    kind: Kind
    language: str
    user: LocalUser | None  # None for the group (its members write as themselves)

    def public(self) -> JsonDict:
        """The chat as GET /api/chats shows it."""
        return {"id": self.id, "title": self.title, "kind": self.kind, "language": self.language}


@dataclass
class DemoWorld:
    """The local Telegram, the clock, the bot (once started) and the phones."""

    api: LocalTelegram
    clock: DemoClock
    runtime: Runtime | None = None
    chats: dict[int, DemoChat] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(FIRST_PARTICIPANT_ID)
    )

    def add_person(
        self, title: str, kind: Kind, language: str, chat_id: int | None = None
    ) -> DemoChat:
        """A phone for a new Telegram account (a fresh id unless given)."""
        chat_id = chat_id if chat_id is not None else next(self._ids)
        first_name = title.split()[0]
        user = LocalUser(self.api, chat_id, first_name, language)
        chat = DemoChat(chat_id, title, kind, language, user)
        self.chats[chat_id] = chat
        return chat

    def add_group(self) -> DemoChat:
        """The officers' forum group."""
        self.api.add_group(GROUP_ID, GROUP_TITLE)
        chat = DemoChat(GROUP_ID, GROUP_TITLE, "group", "nl", None)
        self.chats[GROUP_ID] = chat
        return chat

    def bot_runtime(self) -> Runtime:
        """The running bot's runtime."""
        if self.runtime is None:
            raise DemoNotReady("the bot is still starting")
        return self.runtime

    async def wait_for(self, found: Callable[[], T | None], what: str) -> T:
        """Poll the local Telegram until `found()` is truthy (the bot answers in ms)."""
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while not (result := found()):
            if asyncio.get_running_loop().time() > deadline:
                raise DemoNotReady(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)
        return result

    def button(self, chat_id: int, data_part: str, after: int = 0) -> tuple[int, str] | None:
        """(message id, data) of the newest bot button whose data contains `data_part`."""
        for message in reversed(self.api.bot_messages(chat_id)):
            if message["message_id"] <= after:
                break
            markup = message.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data") or ""
                    if data_part in data:
                        return message["message_id"], data
        return None

    async def press(self, chat_id: int, data_part: str, after: int = 0) -> None:
        """The holder of a phone presses the bot's button whose data holds `data_part`."""
        chat = self.chats[chat_id]
        assert chat.user is not None
        message_id, data = await self.wait_for(
            lambda: self.button(chat_id, data_part, after), f"a {data_part!r} button"
        )
        chat.user.press(chat_id, message_id, data)

    async def register(self, chat: DemoChat, name: str, language: str) -> None:
        """Sign a participant up as a real one: an invite from the officer, /start with its
        code, the language button and Agree."""
        runtime = self.bot_runtime()
        assert chat.user is not None
        async with runtime.sessions() as session, session.begin():
            invite = await create_invite(
                session,
                now=runtime.clock.now(),
                valid_for=timedelta(days=14),
                officer_telegram_id=OFFICER_ID,
                name=name,
            )
        runtime.wake_outbox()
        start = chat.user.write(chat.id, f"/start {invite.code}")["message_id"]
        await self.press(chat.id, f":lang_{language}:", start)
        await self.press(chat.id, ":agree:", start)

        async def signed_up() -> bool:
            async with runtime.sessions() as session:
                participant = await people.participant_by_telegram_id(session, chat.id)
            return participant is not None and participant.status == "active"

        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while not await signed_up():
            if asyncio.get_running_loop().time() > deadline:
                raise DemoNotReady(f"participant {chat.id} did not finish signing up")
            await asyncio.sleep(0.05)
        await self.wait_for(
            lambda: any(
                self.api.reply_keyboard(chat.id, m["message_id"])
                for m in self.api.bot_messages(chat.id)
            ),
            "the participant's keyboard",
        )
