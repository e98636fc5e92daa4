"""Every participant flow works unchanged on a channel that is not Telegram: sign-up,
check-in, a help request, appointments, the language, a crisis (the officer, on Telegram,
gets the alert) and free writing, through the in-memory channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.memory import MemoryChannel
from bot.runtime import Runtime
from bot.services import admin, appointments
from bot.services.invites import create_invite
from db.enums import Channel
from db.models import Alert, Checkin, ConversationState, HelpRequest, Message, Participant

PERSON, OFFICER = 31_000_001, 31_000_900


@pytest.fixture
async def channel(runtime: Runtime) -> AsyncIterator[MemoryChannel]:
    async with runtime.sessions() as session, session.begin():
        officer = await admin.add_staff(
            session,
            telegram_id=OFFICER,
            role="officer",
            name="Officer Test",
            backup=False,
            language="en",
            now=runtime.clock.now(),
        )
        officer.reachable = True
        invite = await create_invite(
            session,
            now=runtime.clock.now(),
            valid_for=timedelta(days=14),
            officer_telegram_id=OFFICER,
            name="Test Deelnemer",
        )
    async with MemoryChannel(runtime, records=(Channel.MEMORY, Channel.TELEGRAM)) as memory:
        said = await memory.write(PERSON, f"/start {invite.code}", language="en")
        assert "Which language" in said[-1].text
        await memory.press(PERSON, "English")
        said = await memory.press(PERSON, "👍 Agree")
        assert said[-1].keyboard, "signed up: the participant keyboard is shown"
        yield memory


async def test_a_participant_on_another_channel_is_stored_with_its_address(
    channel: MemoryChannel, runtime: Runtime
) -> None:
    async with runtime.sessions() as session:
        participant = (await session.scalars(select(Participant))).one()
    assert (participant.channel, participant.address, participant.telegram_id) == (
        Channel.MEMORY,
        str(PERSON),
        None,
    )
    assert participant.status == "active"


async def test_check_in_with_buttons_and_a_note(channel: MemoryChannel, runtime: Runtime) -> None:
    said = await channel.write(PERSON, "✅ Check-in")
    assert "How are you doing" in said[-1].text
    await channel.press(PERSON, "Okay")
    for _domain in range(5):
        said = await channel.press(PERSON, "Fine")
    assert "Anything else" in said[-1].text
    said = await channel.write(PERSON, "Goede week gehad")
    assert "Thank you" in said[-1].text
    async with runtime.sessions() as session:
        checkin = (await session.scalars(select(Checkin))).one()
        states = (await session.scalars(select(ConversationState))).all()
    assert (checkin.status, checkin.mood, checkin.note) == ("completed", "okay", "Goede week gehad")
    assert states == []  # the flow ended


async def test_a_help_request_reaches_the_officer_on_telegram(
    channel: MemoryChannel, runtime: Runtime
) -> None:
    await channel.write(PERSON, "/request")
    await channel.press(PERSON, "Housing")
    await channel.write(PERSON, "Ik moet morgen mijn kamer uit")
    said = await channel.press(PERSON, "📨 Send")
    assert "H-0001" in said[-1].text
    async with runtime.sessions() as session:
        request = (await session.scalars(select(HelpRequest))).one()
    assert (request.domain, request.text) == ("housing", "Ik moet morgen mijn kamer uit")
    officer_chat = channel.chat(OFFICER, Channel.TELEGRAM)
    assert any("H-0001" in message.text for message in officer_chat)


async def test_a_crisis_gets_the_safety_answer_and_an_alert(
    channel: MemoryChannel, runtime: Runtime
) -> None:
    said = await channel.write(PERSON, "ik wil dood")
    assert "113" in said[0].text
    async with runtime.sessions() as session:
        alert = (await session.scalars(select(Alert))).one()
    assert alert.severity == "critical"
    assert any("CRITICAL" in m.text for m in channel.chat(OFFICER, Channel.TELEGRAM))


async def test_appointments_and_language_and_free_writing(
    channel: MemoryChannel, runtime: Runtime
) -> None:
    async with runtime.sessions() as session, session.begin():
        participant = (await session.scalars(select(Participant))).one()
        await appointments.create(
            session,
            participant.id,
            at=runtime.clock.now() + timedelta(days=2),
            with_org="Reclassering",
            location=None,
            note=None,
            offsets=[],
            zone=runtime.settings.tz,
            now=runtime.clock.now(),
        )
    said = await channel.write(PERSON, "📅 My appointments")
    assert "Reclassering" in said[0].text
    said = await channel.press(PERSON, said[0].labels[0])
    assert said, "a confirmation button is answered"
    await channel.write(PERSON, "🌐 Language")
    said = await channel.press(PERSON, "Nederlands")
    assert "vanaf nu schrijf ik in deze taal" in said[-1].text
    assert "📅 Mijn afspraken" in said[-1].keyboard
    said = await channel.write(PERSON, "gewoon even een berichtje")
    assert len(said) == 1
    async with runtime.sessions() as session:
        texts = (await session.scalars(select(Message.text).where(Message.direction == "in"))).all()
    assert "gewoon even een berichtje" in texts
