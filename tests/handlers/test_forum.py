"""Forum mode: one topic per participant in the officer supergroup."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.clock import ManualClock
from tests.e2e.conversation import TelegramGroup
from tests.harness import Harness, running_harness

FORUM = -1001234567890


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock, officer_chat_id=FORUM) as running:
        yield running


async def test_one_topic_per_participant_and_messages_in_it(h: Harness) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    sam, kim = h.user(), h.user(first_name="Kim")
    await h.register(sam, officer_telegram_id=officer.chat_id)
    await h.register(kim, name="Kim Test", officer_telegram_id=officer.chat_id)
    for _ in range(3):
        sam.send("hoi")
        kim.send("hallo")
    await h.pump()
    topics = h.api.calls("createForumTopic")
    assert len(topics) == 2
    group = TelegramGroup(h.api, FORUM)
    threads = group.topics()
    assert len(threads) == 2
    for thread_id in threads:
        assert len([m for m in group.messages(thread_id) if m in ("hoi", "hallo")]) == 3


async def test_staff_message_in_topic_reaches_participant(h: Harness) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    sam = h.user()
    await h.register(sam, officer_telegram_id=officer.chat_id)
    sam.send("kan iemand me bellen?")
    await h.pump()
    group = TelegramGroup(h.api, FORUM)
    (thread_id,) = group.topics()
    group.staff_writes_in_topic(officer, thread_id, "Ik bel je om 3 uur.")
    await h.pump()
    assert sam.last_reply() == "💬 Officer Test, your officer:\nIk bel je om 3 uur."
    outsider = h.user(first_name="Outsider")
    group.staff_writes_in_topic(outsider, thread_id, "ik ben geen staf")
    await h.pump()
    assert "ik ben geen staf" not in sam.replies()


async def test_high_alert_also_goes_to_private_chat(h: Harness) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    sam = h.user()
    await h.register(sam, officer_telegram_id=officer.chat_id)
    sam.send("ik wil dood")
    await h.pump()
    assert "CRITICAL" in officer.last_reply()
    group = TelegramGroup(h.api, FORUM)
    (thread_id,) = group.topics()
    assert any("CRITICAL" in text for text in group.messages(thread_id))


async def test_deleted_topic_is_recreated_and_nothing_is_lost(h: Harness) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    sam = h.user()
    await h.register(sam, officer_telegram_id=officer.chat_id)
    sam.send("eerste")
    await h.pump()
    group = TelegramGroup(h.api, FORUM)
    (first_thread,) = group.topics()
    h.api.delete_topic(FORUM, first_thread)
    sam.send("tweede")
    await h.pump()
    assert len(h.api.calls("createForumTopic")) == 2
    new_threads = [t for t in group.topics() if t != first_thread]
    assert "tweede" in group.messages(new_threads[0])


async def test_topic_name_shows_the_case_state(h: Harness) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    sam = h.user()
    await h.register(sam, officer_telegram_id=officer.chat_id)
    sam.send("hoi")
    await h.pump()
    sam.send("ik ben weer gaan gebruiken")
    await h.pump()
    names = [c.params["name"] for c in h.api.calls("editForumTopic")]
    assert names and names[-1].startswith("⏳")
    officer.press("Acknowledge")
    await h.pump()
    names = [c.params["name"] for c in h.api.calls("editForumTopic")]
    assert names[-1].startswith("💬")
