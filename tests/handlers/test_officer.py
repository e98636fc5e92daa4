"""The officer side: alerts that arrive, replies that go back, escalation, access control."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.conversation.choices import sign_choice
from bot.engine import scheduler
from db.models import Alert, AuditEntry, HelpRequest, Message, Participant
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock, escalation_after="30m") as running:
        yield running


async def _team(h: Harness) -> tuple[TelegramUser, TelegramUser, int]:
    """An officer with one participant who signed up through the officer's invite."""
    officer, sam = h.user(first_name="Officer"), h.user()
    await h.add_staff(officer)
    participant_id = await h.register(sam, officer_telegram_id=officer.chat_id)
    return officer, sam, participant_id


async def test_flagged_message_reaches_the_officer_and_a_reply_goes_back(h: Harness) -> None:
    officer, sam, _participant = await _team(h)
    sam.send("ik trek het niet meer, ik wil dood")
    await h.pump()
    assert "113" in sam.replies()[-1]  # the safety answer, before anything else
    alert_text = officer.last_reply()
    assert "CRITICAL" in alert_text and "Test Deelnemer" in alert_text
    assert "ik wil dood" in alert_text
    assert {"✍️ Reply", "👀 Acknowledge", "✅ Resolved"} == set(officer.buttons())
    alert_message = h.api.last_message_id(officer.chat_id)
    officer.reply_to(alert_message, "Ik bel je over 5 minuten. Je bent niet alleen.")
    await h.pump()
    assert (
        sam.last_reply()
        == "💬 Officer Test, your officer:\nIk bel je over 5 minuten. Je bent niet alleen."
    )
    confirmation = h.api.bot_messages(officer.chat_id)[-1]
    assert confirmation["text"] == "✓ Sent to Test Deelnemer"
    assert confirmation["reply_to_message"]["message_id"] == officer.last_message_id
    async with h.runtime.sessions() as session:
        out = (
            await session.scalars(
                select(Message).where(Message.staff_id.is_not(None), Message.chat_id == sam.chat_id)
            )
        ).all()
    # Stored as written; who wrote it is the staff_id, not a label line.
    assert [m.text for m in out] == ["Ik bel je over 5 minuten. Je bent niet alleen."]


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness


async def test_reply_button_then_text(h: Harness) -> None:
    officer, sam, _ = await _team(h)
    sam.send("ik ben uit huis gezet en slaap op straat")
    await h.pump()
    officer.press("Reply")
    await h.pump()
    assert "Reply to Test Deelnemer" in officer.last_reply()
    officer.send("Kom morgen om 10 uur naar het loket, dan regelen we opvang.")
    await h.pump()
    assert sam.last_reply().endswith(
        "\nKom morgen om 10 uur naar het loket, dan regelen we opvang."
    )


async def test_acknowledge_and_resolve_a_help_request(h: Harness) -> None:
    officer, sam, _ = await _team(h)
    sam.send("/request")
    await h.pump()
    sam.press("Housing")
    await h.pump()
    sam.send("Mijn huurbaas wil dat ik vertrek")
    await h.pump()
    sam.press("Send")
    await h.pump()
    assert "H-0001" in officer.last_reply()
    officer.press("Acknowledge")
    await h.pump()
    assert "picked up your request H-0001" in sam.last_reply()
    officer.press("Resolved")
    await h.pump()
    assert "H-0001 is resolved" in sam.last_reply()
    async with h.runtime.sessions() as session:
        request = (await session.scalars(select(HelpRequest))).one()
    assert request.status == "resolved"


async def test_unacknowledged_critical_alert_is_escalated_once(h: Harness) -> None:
    officer, sam, _ = await _team(h)
    backup, coordinator = h.user(first_name="Backup"), h.user(first_name="Coordinator")
    await h.add_staff(backup, backup=True, name="Backup Officer")
    await h.add_staff(coordinator, role="coordinator", name="Coordinator Test")
    sam.send("ik maak er een eind aan vanavond")
    await h.pump()
    assert await scheduler.escalate_alerts(h.runtime) == 0
    h.clock.advance(timedelta(minutes=31))
    assert await scheduler.escalate_alerts(h.runtime) == 1
    assert await scheduler.escalate_alerts(h.runtime) == 0
    await h.pump()
    for member in (backup, coordinator, officer):  # the officer hears it too
        assert member.last_reply().startswith(
            "⏫ Escalated: Officer Test (the officer of this participant) did not pick this "
            "up within 31 minutes."
        )
        assert len([t for t in member.replies() if "Escalated" in t]) == 1
    async with h.runtime.sessions() as session:
        alert = (await session.scalars(select(Alert).where(Alert.kind == "flag"))).one()
    assert alert.escalated_at is not None


async def test_acknowledged_alert_is_not_escalated(h: Harness) -> None:
    officer, sam, _ = await _team(h)
    sam.send("ik wil dood")
    await h.pump()
    officer.press("Acknowledge")
    await h.pump()
    h.clock.advance(timedelta(hours=2))
    assert await scheduler.escalate_alerts(h.runtime) == 0


async def test_participant_and_stranger_get_nothing_of_anyone(h: Harness) -> None:
    _officer, sam, participant_id = await _team(h)
    sam.send("ik wil dood")
    await h.pump()
    stranger = h.user(first_name="Stranger")
    for person in (sam, stranger):
        for command in (
            "/case Test",
            f"/case {participant_id}",
            "/participants",
            "/handled",
            "/invite Mallory",
        ):
            person.send(command)
        await h.pump()
        seen = "\n".join(person.replies())
        assert "Test Deelnemer" not in seen
        assert "Case of" not in seen and "Invite for" not in seen
    async with h.runtime.sessions() as session:
        alert = (await session.scalars(select(Alert))).first()
    assert alert is not None
    forged = sign_choice(h.runtime.keyring, f"al:{alert.id}:done")
    sam.press_data(forged, h.api.last_message_id(sam.chat_id))
    sam.press_data(f"al:{alert.id}:done:AAAAAAAA", h.api.last_message_id(sam.chat_id))
    await h.pump()
    async with h.runtime.sessions() as session:
        alert = await session.get(Alert, alert.id)
    assert alert is not None and alert.status == "open"


async def test_other_officer_cannot_act_on_or_reply_to_someone_elses_case(h: Harness) -> None:
    officer, sam, participant_id = await _team(h)
    other = h.user(first_name="Other")
    await h.add_staff(other, name="Other Officer")
    sam.send("ik wil dood")
    await h.pump()
    alert_message = h.api.last_message_id(officer.chat_id)
    async with h.runtime.sessions() as session:
        alert = (await session.scalars(select(Alert))).one()
    other.press_data(
        sign_choice(h.runtime.keyring, f"al:{alert.id}:reply"), h.api.last_message_id(sam.chat_id)
    )
    other.send(f"/case {participant_id}")
    await h.pump()
    assert all("Test Deelnemer" not in text for text in other.replies())
    other.send("/start")
    await h.pump()
    # a reply to a message id that only exists in the first officer's chat
    h.api.push_update(
        {
            "message": {
                "message_id": 999,
                "date": 0,
                "chat": {"id": other.chat_id, "type": "private"},
                "from": other.user,
                "text": "hallo Sam",
                "reply_to_message": {
                    "message_id": alert_message,
                    "date": 0,
                    "chat": {"id": other.chat_id, "type": "private"},
                    "text": "x",
                },
            }
        }
    )
    await h.pump()
    assert "hallo Sam" not in sam.replies()


async def test_case_participants_invite_and_handled(h: Harness) -> None:
    officer, sam, _participant_id = await _team(h)
    sam.send("/checkin")
    await h.pump()
    sam.press("Bad")
    await h.pump()
    officer.send("/participants")
    await h.pump()
    assert "Test Deelnemer" in officer.last_reply()
    officer.send("/case test")
    await h.pump()
    assert "Case of Test Deelnemer" in officer.last_reply()
    officer.send("/invite Nieuwe Deelnemer")
    await h.pump()
    assert "https://t.me/oprit_test_bot?start=" in officer.last_reply()
    officer.send("/handled")
    await h.pump()
    assert "No open alerts" in officer.last_reply()
    async with h.runtime.sessions() as session:
        actions = [a.action for a in (await session.scalars(select(AuditEntry))).all()]
    assert "case_read" in actions


async def test_guided_appointment(h: Harness) -> None:
    officer, sam, _participant_id = await _team(h)
    officer.send("/appointment")
    await h.pump()
    officer.press("Test Deelnemer")
    await h.pump()
    officer.send("31-02")
    await h.pump()
    assert "did not understand that date" in officer.last_reply()
    officer.send("7-12")
    await h.pump()
    officer.send("25:00")
    await h.pump()
    assert "did not understand that time" in officer.last_reply()
    officer.send("14:00")
    await h.pump()
    officer.send("Reclassering")
    await h.pump()
    officer.press("Skip")
    await h.pump()
    assert "Plan this appointment?" in officer.last_reply()
    officer.press("Confirm")
    await h.pump()
    assert "Planned" in officer.last_reply()
    sam.send("/appointments")
    await h.pump()
    assert "Monday 7 December 14:00" in sam.last_reply()


async def test_blocked_participant_becomes_unreachable_and_officer_hears(h: Harness) -> None:
    officer, sam, participant_id = await _team(h)
    sam.send("ik ben weer gaan gebruiken")
    await h.pump()
    h.api.block_chat(sam.chat_id, notify=False)
    officer.reply_to(h.api.last_message_id(officer.chat_id), "Hoe gaat het nu?")
    await h.pump()
    async with h.runtime.sessions() as session:
        participant = await session.get(Participant, participant_id)
    assert participant is not None and participant.status == "unreachable"
    assert any("Not delivered" in text and "blocked" in text for text in officer.replies())
    assert any("Cannot be reached" in text for text in officer.replies())
    officer.reply_to(h.api.last_message_id(officer.chat_id), "Nog een keer")
    await h.pump()
    assert "Not sent" in officer.last_reply()


async def test_staff_who_never_opened_the_bot(h: Harness) -> None:
    officer, sam = h.user(first_name="Officer"), h.user()
    coordinator = h.user(first_name="Coordinator")
    await h.add_staff(coordinator, role="coordinator", name="Coordinator Test")
    await h.add_staff(officer)
    h.api.never_started(officer.chat_id)
    await h.register(sam, officer_telegram_id=officer.chat_id)
    sam.send("ik wil dood")
    sam.send("ik wil echt dood")
    await h.pump()
    notices = [t for t in coordinator.replies() if "never opened it" in t]
    assert len(notices) == 1
    async with h.runtime.sessions() as session:
        from db.models import OutboxItem, Staff

        staff = (await session.scalars(select(Staff).where(Staff.role == "officer"))).one()
        waiting = (
            await session.scalars(
                select(OutboxItem).where(
                    OutboxItem.chat_id == officer.chat_id, OutboxItem.status == "pending"
                )
            )
        ).all()
    assert staff.reachable is False
    assert waiting  # the alerts wait for the officer
    officer.send("/start")  # they open the bot
    await h.pump()
    h.clock.advance(timedelta(minutes=11))
    await h.pump()
    assert any("ik wil dood" in text for text in officer.replies())
