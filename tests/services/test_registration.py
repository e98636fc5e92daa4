"""Invites and sign-up without Telegram: through the in-memory channel, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.memory import MemoryChannel
from bot.conversation.flow import FlowContext
from bot.flows import registration
from bot.runtime import Runtime
from bot.services import admin
from bot.services.invites import InviteError, NewInvite, create_invite, hash_code
from db import people
from db.models import AuditEntry, Invite, Participant
from tests.clock import ManualClock

USER = 5550001


async def _invite(rt: Runtime, **kwargs: object) -> NewInvite:
    async with rt.sessions() as session, session.begin():
        return await create_invite(
            session,
            now=rt.clock.now(),
            valid_for=timedelta(days=14),
            **kwargs,  # type: ignore[arg-type]
        )


async def _start(rt: Runtime, code: str | None, user: int = USER) -> list[str]:
    async with MemoryChannel(rt) as channel:
        said = await channel.write(user, f"/start {code}", language="nl")
    return [message.text for message in said]


async def test_invite_is_unguessable_and_only_hashed(runtime: Runtime) -> None:
    invite = await _invite(runtime)
    assert len(invite.code) >= 13  # 80 bits in url-safe base64
    assert invite.link("oprit_test_bot") == f"https://t.me/oprit_test_bot?start={invite.code}"
    async with runtime.sessions() as session:
        stored = (await session.scalars(select(Invite))).one()
    assert stored.code_hash != invite.code
    assert stored.code_hash == hash_code(invite.code)


async def test_full_sign_up(runtime: Runtime) -> None:
    invite = await _invite(runtime, name="Test Deelnemer", language="en")
    async with MemoryChannel(runtime) as channel:
        said = await channel.write(USER, f"/start {invite.code}", language="nl")
        assert "Which language" in said[0].text
        async with runtime.sessions() as session:
            participant = (await session.scalars(select(Participant))).one()
            assert (participant.name, participant.language, participant.status) == (
                "Test Deelnemer",
                "en",
                "registering",
            )
        said = await channel.press(USER, "Nederlands")
        assert said[0].choices  # the consent question, with its buttons
        said = await channel.press(USER, said[0].labels[0])
        assert said[0].keyboard  # the participant keyboard: signed up
    async with runtime.sessions() as session:
        participant = (await session.scalars(select(Participant))).one()
        assert participant.status == "active"
        assert participant.consent_at == runtime.clock.now()


async def test_used_code_cannot_be_used_again(runtime: Runtime) -> None:
    invite = await _invite(runtime)
    await _start(runtime, invite.code)
    texts = await _start(runtime, invite.code, user=USER + 1)
    assert "does not work" in texts[0] or "werkt niet" in texts[0]
    async with runtime.sessions() as session:
        assert len((await session.scalars(select(Participant))).all()) == 1


async def test_expired_code_is_refused(runtime: Runtime) -> None:
    invite = await _invite(runtime)
    assert isinstance(runtime.clock, ManualClock)
    runtime.clock.advance(timedelta(days=15))
    texts = await _start(runtime, invite.code)
    assert "verlopen" in texts[0] or "expired" in texts[0]


@pytest.mark.parametrize(
    "code", ["", " ", "x" * 5000, "'; DROP TABLE invites; --", "\u202egnp.exe", "ك" * 64, "\x00"]
)
async def test_garbage_codes_are_refused_and_only_audited(runtime: Runtime, code: str) -> None:
    texts = await _start(runtime, code)
    assert texts and texts[0]
    async with runtime.sessions() as session:
        assert (await session.scalars(select(Participant))).all() == []


async def test_lockout_after_five_bad_codes(runtime: Runtime) -> None:
    invite = await _invite(runtime)
    for attempt in range(5):
        await _start(runtime, f"wrong-{attempt}")
    texts = await _start(runtime, invite.code)
    assert "hour" in texts[0] or "uur" in texts[0]
    async with runtime.sessions() as session:
        actions = [entry.action for entry in (await session.scalars(select(AuditEntry))).all()]
    assert actions.count("invite_failed") == 5
    assert "invite_lockout" in actions
    assert isinstance(runtime.clock, ManualClock)
    runtime.clock.advance(timedelta(hours=1, minutes=1))
    texts = await _start(runtime, invite.code)
    assert "language" in texts[0].lower() or "taal" in texts[0].lower()


async def test_many_guessing_accounts_never_pause_sign_up_for_everyone(runtime: Runtime) -> None:
    for account in range(25):  # 125 bad codes from 25 accounts within minutes
        for attempt in range(5):
            await _start(runtime, f"guess-{account}-{attempt}", user=USER + 100 + account)
    invite = await _invite(runtime)
    texts = await _start(runtime, invite.code, user=USER)
    assert "language" in texts[0].lower() or "taal" in texts[0].lower()
    locked = await _start(runtime, "one-more-guess", user=USER + 100)
    assert "hour" in locked[0] or "uur" in locked[0]


async def test_staff_get_their_greeting(runtime: Runtime) -> None:
    async with runtime.sessions() as session, session.begin():
        await admin.add_staff(
            session,
            telegram_id=USER,
            role="officer",
            name="Officer Test",
            backup=False,
            language="en",
            now=runtime.clock.now(),
        )
    async with runtime.sessions() as session, session.begin():
        staff = await people.staff_by_telegram_id(session, USER)
        replies = await registration.start(FlowContext(runtime.tx(session), staff=staff), "")
    assert "officer" in replies[0].text


async def test_invite_for_unknown_officer_is_refused(runtime: Runtime) -> None:
    with pytest.raises(InviteError):
        await _invite(runtime, officer_telegram_id=424242)
    with pytest.raises(InviteError):
        await _invite(runtime, language="xx")
