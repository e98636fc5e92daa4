"""Private-chat mode: the officer sees what participants write (a compact copy with Reply),
bursts are one copy edited as lines arrive, an answer to the officer arrives at once as a
new message, /mute silences everyday copies but never alerts, and the participant is told
that the officer reads along only when it is true."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness

READS_ALONG = "Thanks, I saved your message. Your officer reads along."
SAVED = "Thanks, I saved your message."


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _team(h: Harness) -> tuple[TelegramUser, TelegramUser]:
    officer, sam = h.user(first_name="Olga"), h.user(first_name="Sam")
    await h.add_staff(officer, name="Olga")
    await h.register(sam, name="Sam", officer_telegram_id=officer.chat_id)
    return officer, sam


def _copies(officer: TelegramUser) -> list[str]:
    return [text for text in officer.replies() if text.startswith("💬 Sam:")]


async def test_an_unflagged_answer_reaches_the_officer_with_reply(h: Harness) -> None:
    officer, sam = await _team(h)
    sam.send("thuis bij mijn moeder")
    await h.pump()
    assert _copies(officer) == ["💬 Sam: thuis bij mijn moeder"]
    assert "✍️ Reply" in officer.buttons()
    assert sam.last_reply() == READS_ALONG


async def test_a_burst_is_one_copy_edited_and_keeps_its_reply_button(h: Harness) -> None:
    officer, sam = await _team(h)
    for line in ("hoi", "ik ben bij de bieb", "heb je even?"):
        sam.send(line)
        await h.pump()
        await h.advance(timedelta(minutes=1))
    assert len(_copies(officer)) == 1, "one message for the whole burst"
    edits = h.api.calls("editMessageText", chat_id=officer.chat_id)
    assert edits, "later lines are added by editing the copy"
    last = edits[-1].params
    assert str(last["text"]).splitlines() == ["💬 Sam: hoi", "ik ben bij de bieb", "heb je even?"]
    markup = last.get("reply_markup")
    markup = json.loads(markup) if isinstance(markup, str) else markup
    assert markup and "Reply" in json.dumps(markup, ensure_ascii=False)


async def test_after_the_burst_a_new_copy_notifies_again(h: Harness) -> None:
    officer, sam = await _team(h)
    sam.send("hoi")
    await h.pump()
    await h.advance(timedelta(minutes=30))
    sam.send("ben je er?")
    await h.pump()
    assert _copies(officer) == ["💬 Sam: hoi", "💬 Sam: ben je er?"]


async def test_an_answer_to_the_officer_arrives_at_once_as_a_new_message(h: Harness) -> None:
    officer, sam = await _team(h)
    sam.send("hoi")
    await h.pump()
    officer.press("✍️ Reply")
    await h.pump()
    officer.send("Waar ben je nu?")
    await h.pump()
    assert "Waar ben je nu?" in sam.last_reply()
    await h.advance(timedelta(minutes=1))
    sam.send("thuis bij mijn moeder")
    await h.pump()
    assert _copies(officer)[-1] == "💬 Sam: thuis bij mijn moeder"


async def test_mute_silences_everyday_copies_but_never_a_crisis(h: Harness) -> None:
    officer, sam = await _team(h)
    officer.send("/mute Sam")
    await h.pump()
    assert "Muted" in officer.last_reply()
    sam.send("alles goed hier")
    await h.pump()
    assert _copies(officer) == []
    assert sam.last_reply() == SAVED, "nobody reads along, so the bot does not say so"
    sam.send("ik wil dood, ik kan niet meer")
    await h.pump()
    assert any("CRITICAL" in text for text in officer.replies())
    officer.send("/mute Sam")
    await h.pump()
    assert "Unmuted" in officer.last_reply()
    await h.advance(timedelta(minutes=30))
    sam.send("weer thuis")
    await h.pump()
    assert _copies(officer) == ["💬 Sam: weer thuis"]
