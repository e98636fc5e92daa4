"""When handling an update fails: the message and button press are kept, a crisis still gets
its answer and alert, races are retried before they count as bugs, staff hear "not sent"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.engine import dispatch
from bot.services import relay
from db import checkins as checkins_db
from db.models import Alert, InboxUpdate, Message
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness

APOLOGY = "something went wrong on our side"


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        yield running


async def _team(h: Harness) -> tuple[TelegramUser, TelegramUser]:
    staff, sam = h.user(first_name="Officer"), h.user()
    await h.add_staff(staff)
    await h.register(sam, officer_telegram_id=staff.chat_id)
    return staff, sam


async def _inbox_errors(h: Harness) -> list[str | None]:
    async with h.runtime.sessions() as session:
        return list((await session.scalars(select(InboxUpdate.error))).all())


def _fails(error: BaseException, times: int | None = None) -> Any:
    """A replacement that raises `error` (the first `times` calls, or always)."""
    calls = {"count": 0}

    def install(original: Any) -> Any:
        async def failing(*args: Any, **kwargs: Any) -> Any:
            calls["count"] += 1
            if times is None or calls["count"] <= times:
                raise error
            return await original(*args, **kwargs)

        return failing

    return install, calls


async def test_a_crisis_still_gets_its_answer_when_handling_fails(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff, sam = await _team(h)
    install, _calls = _fails(RuntimeError("a bug in the free-text flow"))
    monkeypatch.setattr(dispatch, "waiting_flow", install(dispatch.waiting_flow))
    sam.send("ik wil er een eind aan maken vanavond")
    await h.pump()
    replies = sam.replies()
    assert any("113" in text and "112" in text for text in replies)
    assert any(APOLOGY in text for text in replies)
    assert "CRITICAL" in staff.last_reply()
    async with h.runtime.sessions() as session:
        stored = (await session.scalars(select(Message).where(Message.direction == "in"))).all()
        alerts = (await session.scalars(select(Alert))).all()
    assert [m.text for m in stored if m.kind == "text"][
        -1
    ] == "ik wil er een eind aan maken vanavond"
    assert [alert.severity for alert in alerts] == ["critical"]
    assert (await _inbox_errors(h))[-1] == "RuntimeError"


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("UPDATE", {}, Exception("database is locked")),
        IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: participants.id")),
    ],
    ids=["locked", "integrity"],
)
async def test_a_lost_race_is_tried_again_before_it_counts_as_a_bug(
    h: Harness, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    _staff, sam = await _team(h)
    install, calls = _fails(error, times=2)
    monkeypatch.setattr(dispatch, "waiting_flow", install(dispatch.waiting_flow))
    sam.send("hoi, hoe laat is mijn afspraak?")
    await h.pump()
    assert calls["count"] == 3
    assert not any(APOLOGY in text for text in sam.replies())
    assert "Thanks, I saved your message" in sam.last_reply()
    assert (await _inbox_errors(h))[-1] is None


async def test_a_constraint_that_keeps_failing_is_a_bug_not_a_duplicate(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _staff, sam = await _team(h)
    error = IntegrityError("INSERT", {}, Exception("NOT NULL constraint failed"))
    install, calls = _fails(error)
    monkeypatch.setattr(dispatch, "waiting_flow", install(dispatch.waiting_flow))
    sam.send("dit bericht mag niet verdwijnen")
    await h.pump()
    assert calls["count"] >= 2
    assert APOLOGY in sam.last_reply()
    assert (await _inbox_errors(h))[-1] == "IntegrityError"
    async with h.runtime.sessions() as session:
        texts = (await session.scalars(select(Message.text).where(Message.direction == "in"))).all()
    assert "dit bericht mag niet verdwijnen" in texts


async def test_an_officers_relay_that_fails_says_not_sent(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff, sam = await _team(h)
    sam.send("ik ben uit huis gezet")
    await h.pump()
    install, _calls = _fails(RuntimeError("a bug in relaying"))
    monkeypatch.setattr(relay, "send", install(relay.send))
    staff.reply_to(h.api.last_message_id(staff.chat_id), "Ik regel opvang voor vannacht.")
    await h.pump()
    assert "Not sent" in staff.last_reply()
    assert "Ik regel opvang voor vannacht." not in sam.replies()


async def test_a_button_press_is_kept_when_handling_fails(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _staff, sam = await _team(h)
    sam.send("/checkin")
    await h.pump()
    install, _calls = _fails(RuntimeError("a bug in the check-in"))
    monkeypatch.setattr(checkins_db, "open_checkin", install(checkins_db.open_checkin))
    press = sam.press("Bad")
    await h.pump()
    assert APOLOGY in sam.last_reply()
    answered = [
        call
        for call in h.api.calls("answerCallbackQuery")
        if call.ok and call.params["callback_query_id"].startswith(str(sam.chat_id))
    ]
    assert answered, "the client's spinner stops"
    async with h.runtime.sessions() as session:
        kinds = (await session.scalars(select(Message.kind).where(Message.direction == "in"))).all()
        stored_press = await session.get(InboxUpdate, press)
    assert "callback" in kinds
    assert stored_press is not None and stored_press.error == "RuntimeError"


async def test_the_violence_variant_of_the_safety_answer(h: Harness) -> None:
    staff, sam = await _team(h)
    sam.send("ik steek hem vanavond neer met mijn mes")
    await h.pump()
    answer = next(text for text in sam.replies() if "112" in text)
    assert "keep yourself and others safe" in answer
    assert "113" in answer
    assert "I am worried about you" not in answer  # that is the self-harm variant
    assert "CRITICAL" in staff.last_reply()
