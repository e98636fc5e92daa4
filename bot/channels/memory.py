"""A second channel, in memory: every flow works on it unchanged, which is what keeps the
flows channel-neutral (the tests run participant flows through it).

People are numbers. What they write becomes an `InboundEvent` and goes through the same
dispatcher as a Telegram update; what Oprit says back goes through the same outbox and
sender, and lands in `chats` instead of a messenger. It keeps nothing on disk beyond what
Oprit itself stores.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.conversation.choices import sign_choice
from bot.conversation.events import Address, ChatKind, InboundEvent, Press
from bot.delivery.results import Delivered, Outcome
from bot.delivery.sender import OutboxSender
from bot.engine import dispatch, failures
from bot.runtime import Runtime, UpdateScope, update_scope
from db.enums import Action, Channel
from db.outbox import ClaimedRow


@dataclass
class Said:
    """One message Oprit put into a chat: its text, buttons (choice id, label) and the
    persistent keyboard's labels, if it showed one."""

    message_id: int
    text: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    keyboard: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        """The labels of its buttons."""
        return [label for _choice, label in self.choices]


class MemoryChannel:
    """The channel, and (for the channels in `records`) the place where the sender
    delivers what Oprit says. Use it as `async with MemoryChannel(runtime) as channel`."""

    def __init__(self, runtime: Runtime, records: Iterable[str] = (Channel.MEMORY,)) -> None:
        self.runtime = runtime
        self.chats: dict[tuple[str, int], list[Said]] = {}
        self._ids = itertools.count(1)
        self.sender = OutboxSender(runtime, dict.fromkeys(records, self))

    async def __aenter__(self) -> MemoryChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sender.stop_sending()  # gives back the sender's database locks

    async def write(
        self, person: int, text: str, *, name: str = "Sam", language: str | None = None
    ) -> list[Said]:
        """A person writes `text` (a command when it starts with /); returns what Oprit
        said back to them."""
        kind = "command" if text.startswith("/") else "text"
        return await self._receive(
            self._event(person, name, language, kind=kind, text=text, message_id=next(self._ids))
        )

    async def press(self, person: int, label: str, *, name: str = "Sam") -> list[Said]:
        """A person presses the newest button whose label contains `label` (any case)."""
        for said in reversed(self.chat(person)):
            for choice, shown in said.choices:
                if label.casefold() in shown.casefold():
                    press = Press(
                        sign_choice(self.runtime.keyring, choice), label, str(next(self._ids))
                    )
                    return await self._receive(
                        self._event(person, name, None, kind="callback", text=label, press=press)
                    )
        raise LookupError(f"no button {label!r} in the chat of {person}")

    def chat(self, person: int, channel: str = Channel.MEMORY) -> list[Said]:
        """Everything Oprit said in one chat, oldest first."""
        return self.chats.get((channel, person), [])

    def _event(self, person: int, name: str, language: str | None, **fields: Any) -> InboundEvent:
        return InboundEvent(
            channel=Channel.MEMORY,
            address=Address(Channel.MEMORY, person),
            chat_kind=ChatKind.PRIVATE,
            sender=person,
            sender_name=name,
            sender_language=language,
            sent_at=self.runtime.clock.now(),
            **fields,
        )

    async def _receive(self, event: InboundEvent) -> list[Said]:
        """Handle the event in one transaction (on failure: the failure path, as for a
        Telegram update), then deliver everything due."""
        chat = (Channel.MEMORY, event.address.chat)
        before = len(self.chats.get(chat, []))
        runtime = self.runtime
        try:
            async with runtime.sessions() as session, session.begin():
                scope = UpdateScope(session=session, now=runtime.clock.now(), runtime=runtime)
                with update_scope(scope):
                    await dispatch.handle(scope, event)
        except Exception:
            async with runtime.sessions() as session, session.begin():
                scope = UpdateScope(session=session, now=runtime.clock.now(), runtime=runtime)
                with update_scope(scope):
                    await failures.record_failed_update(scope, event)
        while await self.sender.send_due():
            pass
        return self.chats.get(chat, [])[before:]

    async def send(self, item: ClaimedRow, never_twice: Collection[str] = ()) -> Outcome:
        """Deliver one outbox row into its chat."""
        payload = item.payload or {}
        chat = self.chats.setdefault((item.channel, item.chat_id), [])
        if item.action in (Action.MESSAGE, Action.COPY):
            keyboard = payload.get("keyboard")
            said = Said(
                next(self._ids),
                str(payload.get("text") or payload.get("caption") or ""),
                [(choice, label) for row in payload.get("choices", []) for choice, label in row],
                [label for row in keyboard for label in row] if isinstance(keyboard, list) else [],
            )
            chat.append(said)
            return Delivered(said.message_id)
        if item.action == Action.EDIT:
            for said in chat:
                if said.message_id == payload.get("message_id"):
                    said.text = str(payload.get("text") or "")
            return Delivered(payload.get("message_id"))
        return Delivered(None)  # threads and members do not exist here

    async def create_thread(self, chat_id: int, title: str) -> int:
        """A thread is a number here."""
        return next(self._ids)
