"""Erasure leaves nothing of the person in any table; purge applies the retention period."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.telegram.parse import sender_of
from bot.engine import scheduler
from bot.services import appointments, privacy
from db.models import AuditEntry, Base, Message, Participant
from tests.clock import ManualClock
from tests.harness import Harness, running_harness

FORUM = -1001234567890


@pytest.fixture(params=["private", "forum"])
async def h(
    request: pytest.FixtureRequest, database_url: str, clock: ManualClock
) -> AsyncIterator[Harness]:
    settings = {"officer_chat_id": FORUM} if request.param == "forum" else {}
    async with running_harness(database_url, clock, **settings) as running:
        yield running


async def _live_a_little(h: Harness, name: str, secret: str) -> tuple[int, int]:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer, name=f"Officer {officer.chat_id}")
    coordinator = h.user(first_name="Coordinator")
    await h.add_staff(coordinator, role="coordinator", name=f"Coordinator {coordinator.chat_id}")
    person = h.user(first_name=name)
    participant_id = await h.register(person, name=name, officer_telegram_id=officer.chat_id)
    person.send(f"{secret}: ik wil dood")
    person.send_voice()
    person.send("/request")
    await h.pump()
    person.press("Urgent")
    await h.pump()
    person.send(f"{secret} hulpvraag")
    await h.pump()
    person.press("Send")
    await h.pump()
    person.send("/checkin")
    await h.pump()
    person.press("Bad")
    await h.pump()
    async with h.runtime.sessions() as session, session.begin():
        await appointments.create(
            session,
            participant_id,
            at=h.clock.now() + timedelta(days=3),
            with_org=secret,
            location=secret,
            note=secret,
            offsets=[timedelta(days=1)],
            now=h.clock.now(),
            zone=h.runtime.settings.tz,
        )
    officer.reply_to(h.api.last_message_id(officer.chat_id), f"{secret} antwoord")
    await h.pump()
    officer.press("Acknowledge")  # "Acknowledged: <name>" and a topic rename
    officer.send(f"/case {participant_id}")  # the case view quotes the messages
    officer.send("/participants")  # a list naming several people
    coordinator.send(f"/case {participant_id}")
    await h.pump()
    officer.press("Reply")
    await h.pump()
    officer.send(f"{secret} via de knop")  # a relay through Reply
    await h.pump()
    await h.broadcast("Het loket is dicht.")
    await h.pump()
    return participant_id, person.chat_id


async def _every_value(h: Harness) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table, decrypted, as dicts."""
    rows = []
    async with h.runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings().all():
                rows.append((table.name, dict(row)))
    return rows


async def test_nothing_of_an_erased_participant_remains(h: Harness) -> None:
    sam_id, sam_telegram = await _live_a_little(h, "Sam Voorbeeld", "GEHEIM-SAM")
    kim_id, _ = await _live_a_little(h, "Kim Voorbeeld", "GEHEIM-KIM")
    async with h.runtime.sessions() as session:
        sam = await session.get(Participant, sam_id)
        assert sam is not None
        sam_topic = sam.forum_topic_id
    async with h.runtime.sessions() as session, session.begin():
        counts = await privacy.erase(h.runtime.tx(session), sam_id, "cli", sender_of)
    assert counts["messages"] > 0 and counts["alerts"] > 0 and counts["outbox"] > 0
    await h.pump()  # the topic is deleted, staff copies Telegram still allows are removed
    if h.runtime.settings.officer_chat_id is not None:
        assert (FORUM, sam_topic) in h.api.deleted_topics
    deleted = {call.params["message_id"] for call in h.api.calls("deleteMessage") if call.ok}
    assert deleted, "the bot removes its recent copies about the person from staff chats"
    leftovers = []
    for table, row in await _every_value(h):
        flat = repr(row)
        if "GEHEIM-SAM" in flat or "Sam Voorbeeld" in flat or str(sam_telegram) in flat:
            leftovers.append((table, flat[:200]))
        if row.get("participant_id") == sam_id and table != "audit_log":
            leftovers.append((table, flat[:200]))
    assert leftovers == [], leftovers
    async with h.runtime.sessions() as session:
        erased = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "erased"))
        ).one()
        kim_messages = (
            await session.scalars(select(Message).where(Message.participant_id == kim_id))
        ).all()
    assert erased.participant_id == sam_id and "GEHEIM" not in repr(erased.detail)
    assert any("GEHEIM-KIM" in (m.text or "") for m in kim_messages)


async def test_erasing_an_unknown_participant_is_a_clear_error(h: Harness) -> None:
    async with h.runtime.sessions() as session, session.begin():
        with pytest.raises(privacy.PrivacyError):
            await privacy.erase(h.runtime.tx(session), 4242, "cli", sender_of)


async def test_purge_keeps_recent_and_drops_old(h: Harness) -> None:
    sam = h.user()
    sam_id = await h.register(sam)
    sam.send("heel oud bericht")
    await h.pump()
    h.clock.advance(timedelta(days=731))
    sam.send("nieuw bericht")
    await h.pump()
    async with h.runtime.sessions() as session, session.begin():
        counts = await privacy.purge(session, h.clock.now(), 730)
    assert counts["messages"] >= 1
    async with h.runtime.sessions() as session:
        texts = [
            m.text
            for m in (
                await session.scalars(select(Message).where(Message.participant_id == sam_id))
            ).all()
        ]
        participant = await session.get(Participant, sam_id)
    assert "nieuw bericht" in texts and "heel oud bericht" not in texts
    assert participant is not None


async def test_purge_runs_once_a_day(h: Harness) -> None:
    h.clock.set(h.clock.now().replace(hour=1))  # 02:00 in Amsterdam: too early
    assert not await scheduler.daily_purge(h.runtime)
    h.clock.advance(timedelta(hours=2))
    assert await scheduler.daily_purge(h.runtime)
    assert not await scheduler.daily_purge(h.runtime)
    h.clock.advance(timedelta(days=1))
    assert await scheduler.daily_purge(h.runtime)
