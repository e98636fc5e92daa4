"""End to end in forum mode, with Telegram's 20 messages a minute into the officer group
enforced by the local Telegram (the minute shrunk to TEST_GROUP_WINDOW for speed): a burst
from many new participants makes one topic each, loses nothing, goes out most urgent first
and never trips the group's flood control."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.localtelegram import max_calls_in_window
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramGroup
from tests.harness import TEST_GROUP_WINDOW, Harness, running_harness

FORUM = -1001234567890
PEOPLE = 24


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock, officer_chat_id=FORUM) as running:
        yield running


async def test_a_burst_of_new_participants_under_the_group_limit(h: Harness) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    people = [h.user(first_name=f"P{n}") for n in range(PEOPLE)]
    for person in people:
        await h.register(
            person, name=f"Deelnemer {person.chat_id}", officer_telegram_id=officer.chat_id
        )
    h.api.clear()
    for person in people[:-1]:
        person.send(f"eerste bericht van {person.chat_id}")
    people[-1].send("ik wil dood")  # the crisis comes last in the burst
    await h.pump()
    group = TelegramGroup(h.api, FORUM)
    topics = group.topics()
    assert len(topics) == PEOPLE == len(h.api.calls("createForumTopic"))
    for person in people[:-1]:
        (thread,) = [t for t, name in topics.items() if str(person.chat_id) in name]
        assert f"eerste bericht van {person.chat_id}" in group.messages(thread)
    into_group = [c for c in h.api.sent_messages(FORUM)]
    assert "CRITICAL" in str(into_group[0].params.get("text")), "the alert goes first"
    assert "CRITICAL" in officer.last_reply()  # and to the officer's own chat at once
    assert max_calls_in_window(into_group, TEST_GROUP_WINDOW) <= 20
    assert not [c for c in h.api.calls() if c.status == 429]
