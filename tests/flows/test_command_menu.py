"""The command menu is set per role and per language: participants get their commands,
each staff member gets the staff commands in their own language (Dutch names for Dutch
staff, the English names still work)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.app import publish_commands
from tests.clock import ManualClock
from tests.harness import Harness, running_harness


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


def _menu(h: Harness, scope: dict[str, object], language: str = "") -> list[str]:
    for call in reversed(h.api.calls("setMyCommands")):
        params = call.params
        raw_scope = params.get("scope", {"type": "default"})
        found = json.loads(raw_scope) if isinstance(raw_scope, str) else raw_scope
        if found == scope and params.get("language_code", "") == language:
            commands = params["commands"]
            commands = json.loads(commands) if isinstance(commands, str) else commands
            return [command["command"] for command in commands]
    raise AssertionError(f"no menu for {scope} {language!r}")


async def test_menus_per_role_and_language(h: Harness) -> None:
    olga, piet = h.user(first_name="Olga"), h.user(first_name="Piet")
    await h.add_staff(olga, name="Olga", language="nl")
    await h.add_staff(piet, name="Piet", language="en")
    await publish_commands(h.application)
    participants = _menu(h, {"type": "default"}, "nl")
    assert "checkin" in participants and "case" not in participants
    dutch = _menu(h, {"type": "chat", "chat_id": olga.chat_id})
    assert {"dossier", "open", "participants", "invite"} <= set(dutch)
    assert "case" not in dutch and "checkin" not in dutch
    english = _menu(h, {"type": "chat", "chat_id": piet.chat_id})
    assert {"case", "handled", "participants"} <= set(english) and "dossier" not in english


async def test_the_dutch_names_work_for_everyone(h: Harness) -> None:
    piet = h.user(first_name="Piet")
    await h.add_staff(piet, name="Piet", language="en")
    sam = h.user()
    await h.register(sam, name="Sam", officer_telegram_id=piet.chat_id)
    piet.send("/dossier Sam")
    await h.pump()
    assert piet.last_reply().startswith("Case of Sam")
    piet.send("/open")
    await h.pump()
    assert piet.last_reply() == "No open alerts. 👍"
