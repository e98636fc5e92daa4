"""Sign-up through the real Application: /start CODE, language, consent, keyboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services import admin
from bot.services.invites import create_invite
from db.models import AuditEntry, Message, Participant
from tests.clock import ManualClock
from tests.harness import Harness, running_harness


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def invite(h: Harness, **kwargs: object) -> str:
    async with h.runtime.sessions() as session, session.begin():
        made = await create_invite(
            session,
            now=h.clock.now(),
            valid_for=timedelta(days=14),
            **kwargs,  # type: ignore[arg-type]
        )
    return made.code


async def test_sign_up_with_buttons(harness: Harness) -> None:
    code = await invite(harness, name="Test Deelnemer")
    sam = harness.user(language_code="en")
    sam.send(f"/start {code}")
    await harness.pump()
    assert "Welcome" in sam.last_reply()
    assert {"Nederlands", "English"} <= set(sam.buttons())
    sam.press("English")
    await harness.pump()
    assert "Do you agree?" in sam.last_reply()
    sam.press("Agree")
    await harness.pump()
    assert "all set" in sam.last_reply()
    assert len(sam.keyboard()) == 5  # check-in, help, appointments, plan, language
    async with harness.runtime.sessions() as session:
        participant = (await session.scalars(select(Participant))).one()
    assert participant.status == "active"
    assert participant.language == "en"


async def test_not_now_and_come_back_later(harness: Harness) -> None:
    code = await invite(harness)
    sam = harness.user()
    sam.send(f"/start {code}")
    await harness.pump()
    sam.press("English")
    await harness.pump()
    sam.press("Not now")
    await harness.pump()
    assert "tap the button" in sam.last_reply()
    assert sam.buttons() == ["I am ready"], "a button, not a command to type"
    sam.send("hallo?")
    await harness.pump()
    assert "signing up" in sam.last_reply()
    sam.send("/start")
    await harness.pump()
    sam.press("English")
    await harness.pump()
    sam.press("Agree")
    await harness.pump()
    async with harness.runtime.sessions() as session:
        participant = (await session.scalars(select(Participant))).one()
        stored = (await session.scalars(select(Message).where(Message.direction == "in"))).all()
    assert participant.status == "active"
    assert [m.text for m in stored] == []  # nothing stored before consent


async def test_unknown_user_and_sticker_get_a_kind_answer(harness: Harness) -> None:
    stranger = harness.user()
    stranger.send_sticker()
    stranger.send("/checkin")
    stranger.send("/start")
    await harness.pump()
    assert len(stranger.replies()) == 3
    assert all("invite" in text for text in stranger.replies())
    async with harness.runtime.sessions() as session:
        assert (await session.scalars(select(Message).where(Message.direction == "in"))).all() == []


async def test_bad_codes_lock_out(harness: Harness) -> None:
    code = await invite(harness)
    mallory = harness.user()
    for attempt in range(6):
        mallory.send(f"/start guess{attempt}")
    await harness.pump()
    mallory.send(f"/start {code}")
    await harness.pump()
    assert "Too many" in mallory.last_reply()
    async with harness.runtime.sessions() as session:
        actions = [a.action for a in (await session.scalars(select(AuditEntry))).all()]
    assert "invite_lockout" in actions


async def test_double_tap_and_old_buttons_change_nothing(harness: Harness) -> None:
    code = await invite(harness)
    sam = harness.user()
    sam.send(f"/start {code}")
    await harness.pump()
    sam.press("English")
    sam.press("English")
    await harness.pump()
    sam.press("Agree")
    await harness.pump()
    sam.press("Agree")
    await harness.pump()
    assert "already" in sam.last_reply()


async def test_forged_button_is_refused(harness: Harness) -> None:
    code = await invite(harness)
    sam = harness.user()
    sam.send(f"/start {code}")
    await harness.pump()
    message_id = sam.api.last_message_id(sam.chat_id)
    sam.press_data("reg:abcdef:agree:AAAAAAAA", message_id)
    await harness.pump()
    assert "older message" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        participant = (await session.scalars(select(Participant))).one()
    assert participant.status == "registering"


async def test_staff_greeting(harness: Harness) -> None:
    officer = harness.user(first_name="Officer")
    async with harness.runtime.sessions() as session, session.begin():
        await admin.add_staff(
            session,
            telegram_id=officer.chat_id,
            role="officer",
            name="Officer Test",
            backup=False,
            language="en",
            now=harness.clock.now(),
        )
    officer.send("/start")
    await harness.pump()
    assert "registered as officer" in officer.last_reply()


async def test_not_now_then_the_ready_button_shows_the_consent_again(harness: Harness) -> None:
    code = await invite(harness)
    sam = harness.user()
    sam.send(f"/start {code}")
    await harness.pump()
    sam.press("English")
    await harness.pump()
    sam.press("Not now")
    await harness.pump()
    sam.press("I am ready")
    await harness.pump()
    assert sam.last_reply().startswith("Before we start")
    sam.press("👍 Agree")
    await harness.pump()
    async with harness.runtime.sessions() as session:
        participant = (await session.scalars(select(Participant))).one()
    assert participant.status == "active"
