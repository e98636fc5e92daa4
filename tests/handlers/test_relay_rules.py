"""A staff message reaches the participant it is meant for, or nobody, and says which.

An explicit Telegram reply decides the target; a reply to a bot message that is about no
one participant relays nothing; *Reply* applies to one plain message in the chat where it
was pressed, for OPRIT_REPLY_WINDOW; in forum mode only a participant's own topic relays.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.clock import ManualClock
from tests.e2e.conversation import TelegramGroup, TelegramUser
from tests.harness import Harness, running_harness

FORUM = -1001234567890


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


@pytest.fixture
async def forum(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock, officer_chat_id=FORUM) as running:
        yield running


async def _officer_with_sam_and_kim(h: Harness) -> tuple[TelegramUser, TelegramUser, TelegramUser]:
    officer, sam, kim = h.user(first_name="Officer"), h.user(), h.user(first_name="Kim")
    await h.add_staff(officer)
    await h.register(sam, name="Sam Test", officer_telegram_id=officer.chat_id)
    await h.register(kim, name="Kim Test", officer_telegram_id=officer.chat_id)
    return officer, sam, kim


async def _reply_pressed_on_sams_alert(
    h: Harness, officer: TelegramUser, sam: TelegramUser
) -> None:
    sam.send("ik ben uit huis gezet en slaap op straat")
    await h.pump()
    officer.press("Reply")
    await h.pump()
    assert "Reply to Sam Test (reads English)" in officer.last_reply()


async def test_a_reply_to_a_case_view_of_kim_reaches_nobody(h: Harness) -> None:
    officer, sam, kim = await _officer_with_sam_and_kim(h)
    await _reply_pressed_on_sams_alert(h, officer, sam)
    officer.send("/case Kim")
    await h.pump()
    case_view = h.api.last_message_id(officer.chat_id)
    sam_before, kim_before = sam.replies(), kim.replies()
    officer.reply_to(case_view, "Hoe gaat het met je woning?")
    await h.pump()
    assert sam.replies() == sam_before and kim.replies() == kim_before
    assert "not about one participant" in officer.last_reply()


@pytest.mark.parametrize("command", ["/participants", "/handled", "/help"])
async def test_a_reply_to_a_list_or_prompt_reaches_nobody(h: Harness, command: str) -> None:
    officer, sam, kim = await _officer_with_sam_and_kim(h)
    await _reply_pressed_on_sams_alert(h, officer, sam)
    officer.send(command)
    await h.pump()
    listing = h.api.last_message_id(officer.chat_id)
    sam_before = sam.replies()
    officer.reply_to(listing, "Dit is voor niemand")
    await h.pump()
    assert sam.replies() == sam_before
    assert "Dit is voor niemand" not in kim.replies()
    assert "not about one participant" in officer.last_reply()


async def test_a_reply_to_an_alert_reaches_that_participant_even_with_another_pending(
    h: Harness,
) -> None:
    officer, sam, kim = await _officer_with_sam_and_kim(h)
    kim.send("ik ben weer gaan gebruiken")
    await h.pump()
    kims_alert = h.api.last_message_id(officer.chat_id)
    await _reply_pressed_on_sams_alert(h, officer, sam)
    officer.reply_to(kims_alert, "Kim, ik bel je zo.")
    await h.pump()
    assert kim.last_reply() == "💬 Officer Test, your officer:\nKim, ik bel je zo."
    assert "Kim, ik bel je zo." not in sam.replies()
    assert officer.last_reply() == "✓ Sent to Kim Test"


async def test_reply_applies_to_one_plain_message_and_is_confirmed(h: Harness) -> None:
    officer, sam, _kim = await _officer_with_sam_and_kim(h)
    await _reply_pressed_on_sams_alert(h, officer, sam)
    officer.send("Kom morgen om 10 uur langs.")
    await h.pump()
    assert sam.last_reply() == "💬 Officer Test, your officer:\nKom morgen om 10 uur langs."
    assert officer.last_reply() == "✓ Sent to Sam Test"
    officer.send("En neem je ID mee.")  # the Reply was used up by the first message
    await h.pump()
    assert "En neem je ID mee." not in sam.replies()


async def test_reply_expires_after_the_window(h: Harness) -> None:
    officer, sam, _kim = await _officer_with_sam_and_kim(h)
    await _reply_pressed_on_sams_alert(h, officer, sam)
    h.clock.advance(timedelta(minutes=11))
    officer.send("Ben je er nog?")
    await h.pump()
    assert "Ben je er nog?" not in sam.replies()
    assert "valid for 10 minutes" in officer.last_reply()


async def test_a_reply_to_the_officers_own_message_reaches_nobody(h: Harness) -> None:
    officer, sam, _kim = await _officer_with_sam_and_kim(h)
    await _reply_pressed_on_sams_alert(h, officer, sam)
    officer.send("/help")
    await h.pump()
    officer.reply_to(officer.last_message_id, "een notitie voor mezelf")
    await h.pump()
    assert "een notitie voor mezelf" not in sam.replies()
    assert "not about one participant" in officer.last_reply()


async def test_forum_only_a_participants_own_topic_relays(forum: Harness) -> None:
    h = forum
    officer, sam, kim = await _officer_with_sam_and_kim(h)
    sam.send("ik ben uit huis gezet en slaap op straat")
    kim.send("hallo")
    await h.pump()
    group = TelegramGroup(h.api, FORUM)
    threads = {
        name.split(" ", 1)[1].split(" #")[0]: thread for thread, name in group.topics().items()
    }
    sam_thread, kim_thread = threads["Sam Test"], threads["Kim Test"]
    group.press(officer, "Reply", sam_thread)
    await h.pump()
    staff_topic = h.api.add_topic(FORUM, "Team overleg")
    group.staff_writes_in_topic(officer, staff_topic, "alleen voor het team")
    group._push_message(officer.user, {"text": "in het algemene onderwerp"})  # General
    await h.pump()
    for text in ("alleen voor het team", "in het algemene onderwerp"):
        assert text not in sam.replies() and text not in kim.replies()
    group.staff_writes_in_topic(officer, kim_thread, "Kim, tot straks")
    await h.pump()
    assert kim.last_reply() == "💬 Officer Test, your officer:\nKim, tot straks"
    assert "Kim, tot straks" not in sam.replies()
    assert "✓ Sent to Kim Test" in group.messages(kim_thread)


async def test_reply_pressed_in_the_group_does_not_relay_from_private_chat(forum: Harness) -> None:
    h = forum
    officer, sam, _kim = await _officer_with_sam_and_kim(h)
    sam.send("ik wil dood")  # critical: the alert also reaches the officer's private chat
    await h.pump()
    group = TelegramGroup(h.api, FORUM)
    (sam_thread,) = [t for t, name in group.topics().items() if "Sam Test" in name]
    group.press(officer, "Reply", sam_thread)
    await h.pump()
    officer.send("Dit typ ik in mijn eigen chat")
    await h.pump()
    assert "Dit typ ik in mijn eigen chat" not in sam.replies()


async def test_an_anonymous_admin_in_a_topic_is_told_nothing_is_relayed(forum: Harness) -> None:
    h = forum
    _officer, sam, _kim = await _officer_with_sam_and_kim(h)
    sam.send("hoi")
    await h.pump()
    group = TelegramGroup(h.api, FORUM)
    (sam_thread,) = [t for t, name in group.topics().items() if "Sam Test" in name]
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    chat = {"id": FORUM, "type": "supergroup", "title": "Oprit officers", "is_forum": True}
    group._push_message(
        anonymous,
        {
            "text": "anoniem bericht",
            "sender_chat": chat,
            "message_thread_id": sam_thread,
            "is_topic_message": True,
        },
    )
    await h.pump()
    assert "anoniem bericht" not in sam.replies()
    assert any("Anonymous posts" in text for text in group.messages(sam_thread))
