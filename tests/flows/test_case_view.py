"""/case shows the whole conversation (in and out, the officer's own replies, flags with
their real severity and state), paged with buttons; several matches and /participants rows
open a case with one tap; staff read severities, categories and statuses in their own
language, without ids after names and without seconds."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.i18n import _, use_language
from db.models import Message
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness

CRISIS = "ik wil dood, ik kan niet meer"
SECONDS = re.compile(r"\d{1,2}:\d\d:\d\d")


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _officer(h: Harness, language: str = "en") -> TelegramUser:
    officer = h.user(first_name="Olga")
    await h.add_staff(officer, name="Olga", language=language)
    return officer


async def _participant(h: Harness, officer: TelegramUser, name: str) -> TelegramUser:
    user = h.user(first_name=name)
    await h.register(user, name=name, officer_telegram_id=officer.chat_id)
    return user


async def test_case_shows_the_whole_conversation_with_real_severities(h: Harness) -> None:
    officer = await _officer(h)
    sam = await _participant(h, officer, "Sam")
    sam.send("thuis bij mijn moeder")
    await h.pump()
    officer.press("✍️ Reply")
    await h.pump()
    officer.send("Fijn. Tot morgen!")
    await h.pump()
    await h.advance(timedelta(minutes=20))
    sam.send(CRISIS)
    await h.pump()
    officer.send("/case Sam")
    await h.pump()
    view = officer.last_reply()
    assert view.startswith("Case of Sam (active), last 30 days, page 1 of 1:")
    assert "💬 Sam: thuis bij mijn moeder" in view
    assert "↩️ Olga: Fijn. Tot morgen!" in view
    assert f"🔴 CRITICAL (new) 💬 Sam: {CRISIS}" in view
    assert "🟠" not in view, "a critical flag is not shown as high"
    assert not SECONDS.search(view)
    assert "(#" not in view


async def test_case_keeps_a_staff_message_whole_and_the_label_out(h: Harness) -> None:
    """The participant sees who wrote above the message; the conversation keeps the words
    as written (the writer is a column), so /case and exports show them whole."""
    officer = await _officer(h)
    sam = await _participant(h, officer, "Sam")
    sam.send("hoi")
    await h.pump()
    officer.press("✍️ Reply")
    await h.pump()
    officer.send("💬 Lijstje:\nID meenemen")
    await h.pump()
    assert sam.last_reply() == "💬 Olga, your officer:\n💬 Lijstje:\nID meenemen"
    async with h.runtime.sessions() as session:
        kept = await session.scalars(
            select(Message.text).where(
                Message.staff_id.is_not(None), Message.chat_id == sam.chat_id
            )
        )
        assert list(kept) == ["💬 Lijstje:\nID meenemen"]
    officer.send("/case Sam")
    await h.pump()
    view = officer.last_reply()
    assert "↩️ Olga: 💬 Lijstje: ID meenemen" in view
    assert "your officer:" not in view


async def test_a_long_case_is_paged_with_buttons(h: Harness) -> None:
    officer = await _officer(h)
    sam = await _participant(h, officer, "Sam")
    officer.send("/mute Sam")
    await h.pump()
    for number in range(30):
        sam.send(f"bericht {number}")
        await h.pump()
        await h.advance(timedelta(minutes=1))
    officer.send("/case Sam")
    await h.pump()
    newest = officer.last_reply()
    assert "page 1 of 2" in newest and "bericht 29" in newest and "bericht 5" not in newest
    assert officer.buttons() == ["◀ Older"]
    officer.press("◀ Older")
    await h.pump()
    older = officer.last_reply()
    assert "page 2 of 2" in older and "bericht 5" in older and "bericht 29" not in older
    assert officer.buttons() == ["Newer ▶"]


async def test_several_matches_are_offered_as_buttons(h: Harness) -> None:
    officer = await _officer(h)
    await _participant(h, officer, "Sam")
    await _participant(h, officer, "Samira")
    officer.send("/case sam")
    await h.pump()
    assert officer.last_reply() == "Several people match. Tap one:"
    assert officer.buttons() == ["📂 Sam", "📂 Samira"]
    officer.press("📂 Samira")
    await h.pump()
    assert officer.last_reply().startswith("Case of Samira")


async def test_a_participants_row_opens_the_case(h: Harness) -> None:
    officer = await _officer(h)
    await _participant(h, officer, "Kim")
    officer.send("/participants")
    await h.pump()
    assert "📂 Kim" in officer.buttons()
    officer.press("📂 Kim")
    await h.pump()
    assert officer.last_reply().startswith("Case of Kim")


async def test_a_case_of_someone_else_cannot_be_opened_by_a_forged_tap(h: Harness) -> None:
    olga = await _officer(h)
    other = h.user(first_name="Piet")
    await h.add_staff(other, name="Piet")
    await _participant(h, other, "Kim")
    olga.send("/participants")
    await h.pump()
    assert "Kim" not in olga.last_reply()


async def test_a_dutch_officer_reads_no_english_ids_in_an_alert(h: Harness) -> None:
    officer = await _officer(h, language="nl")
    sam = await _participant(h, officer, "Sam")
    sam.send(CRISIS)
    await h.pump()
    (alert,) = [text for text in officer.replies() if text.startswith("🔴")]
    with use_language("nl"):
        critical, category = _("CRITICAL"), _("Self-harm or suicidal thoughts")
    assert critical != "CRITICAL" and critical in alert
    assert category in alert
    for english in ("CRITICAL", "self_harm", "(#", "Flagged"):
        assert english not in alert


async def test_mute_and_plan_need_exactly_one_person(h: Harness) -> None:
    """/mute and /plan name one participant: no name shows how, two matches list them,
    a stranger is refused like anything the staff member may not see."""
    officer = await _officer(h)
    await _participant(h, officer, "Sam Bakker")
    await _participant(h, officer, "Sam Visser")
    officer.send("/plan")
    await h.pump()
    assert officer.last_reply() == "Use: /plan NAME or /plan NUMBER"
    officer.send("/mute Sam")
    await h.pump()
    listed = officer.last_reply()
    assert listed.startswith("Several people match. Use the number:")
    assert "Sam Bakker" in listed and "Sam Visser" in listed
    officer.send("/plan Nobody Here")
    await h.pump()
    assert "Nobody Here" not in officer.last_reply()
    officer.send("/mute Visser")
    await h.pump()
    assert officer.last_reply().startswith("Muted:")
