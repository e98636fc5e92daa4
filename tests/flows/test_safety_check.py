"""Asking directly when the signal is weak: the question in the participant's language,
Yes / I don't know take the crisis path, No is kept, no answer reaches the officer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import triage
from bot.i18n import language_name, use_language
from bot.services import free_text
from db.models import Alert
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness

WEAK = "ik weet het allemaal niet meer"  # the classifier is stubbed to call this weak
PROBABLE = "het hoeft voor mij niet meer"  # ... and this a high self-harm flag
ASKED = "Are you thinking about harming yourself"


@pytest.fixture
async def h(
    sqlite_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The classifier says `ask` for WEAK (the model decides that in production; here the
    flow is under test, not the model)."""
    classify = triage.classify

    def stubbed(text: str, lang: str) -> triage.Verdict:
        if text == PROBABLE:
            return triage.Verdict(True, "high", ("self_harm",), ("niet meer",))
        return triage.ASK if text == WEAK else classify(text, lang)

    monkeypatch.setattr(free_text.triage, "classify", stubbed)
    async with running_harness(sqlite_url, clock) as running:
        yield running


def _in(language: str, text: str) -> str:
    from bot.i18n import _

    with use_language(language):
        return _(text)


async def _team(h: Harness, language: str = "en") -> tuple[TelegramUser, TelegramUser]:
    officer, sam = h.user(first_name="Officer"), h.user()
    await h.add_staff(officer)
    with use_language(language):
        label = language_name(language, language)
    await h.register(sam, officer_telegram_id=officer.chat_id, language=label)
    return officer, sam


async def _alerts(h: Harness) -> list[Alert]:
    async with h.runtime.sessions() as session:
        return list((await session.scalars(select(Alert).order_by(Alert.id))).all())


@pytest.mark.parametrize("language", ["nl", "en", "ar", "tr", "pl"])
async def test_yes_takes_the_crisis_path_in_every_language(h: Harness, language: str) -> None:
    officer, sam = await _team(h, language)
    before = len(officer.replies())
    sam.send(WEAK)
    await h.pump()
    question = _in(
        language,
        "I read your message and I want to ask you something directly, because I care "
        "about how you are.\nAre you thinking about harming yourself or ending your life?",
    )
    assert sam.last_reply() == question
    alarms = [text for text in officer.replies()[before:] if not text.startswith("💬")]
    assert alarms == []  # only the copy of what was written: no alert yet
    sam.press(_in(language, "Yes"))
    await h.pump()
    assert "113" in sam.last_reply() and "112" in sam.last_reply()
    alert = next(text for text in officer.replies()[before:] if "CRITICAL" in text)
    assert "answered Yes" in alert and WEAK in alert
    (check,) = [a for a in await _alerts(h) if a.kind == "safety_check"]
    assert (check.severity, check.categories) == ("critical", ["yes"])
    await h.advance(timedelta(minutes=11))
    assert not any("no answer" in text for text in officer.replies()), "cancelled by the answer"


async def test_i_dont_know_is_a_crisis_too(h: Harness) -> None:
    officer, sam = await _team(h)
    sam.send(WEAK)
    await h.pump()
    sam.press("I don't know")
    await h.pump()
    assert "113" in sam.last_reply()
    assert any("answered I don't know" in text for text in officer.replies())


async def test_no_is_thanked_and_nobody_is_alarmed(h: Harness) -> None:
    officer, sam = await _team(h)
    before = len(officer.replies())
    sam.send(WEAK)
    await h.pump()
    question = sam._messages()[-1]
    (yes,) = [
        button["callback_data"]
        for button in question["reply_markup"]["inline_keyboard"][0]
        if button["text"] == "Yes"
    ]
    sam.press("No")
    await h.pump()
    assert "Thank you for telling me" in sam.last_reply() and "113" in sam.last_reply()
    sam.press_data(yes, question["message_id"])  # a second press on the same question
    await h.pump()
    assert "Already noted" in sam.last_reply()
    await h.advance(timedelta(minutes=11))
    assert [text for text in officer.replies()[before:] if not text.startswith("💬")] == []
    (check,) = [a for a in await _alerts(h) if a.kind == "safety_check"]
    assert (check.status, check.categories) == ("resolved", ["no"])


async def test_no_answer_within_ten_minutes_reaches_the_officer(h: Harness) -> None:
    officer, sam = await _team(h)
    sam.send(WEAK)
    await h.pump()
    await h.advance(timedelta(minutes=9))
    assert not any(ASKED in text or "no answer" in text for text in officer.replies())
    await h.advance(timedelta(minutes=2))
    alert = officer.last_reply()
    assert "HIGH" in alert and "no answer within 10 minutes" in alert and WEAK in alert
    sam.press("Yes")  # a late answer still takes the crisis path
    await h.pump()
    assert "113" in sam.last_reply()
    assert "answered Yes" in officer.last_reply()


async def test_asked_once_per_quarter_hour(h: Harness) -> None:
    _officer, sam = await _team(h)
    sam.send(WEAK)
    await h.pump()
    sam.send(WEAK)
    await h.pump()
    assert ASKED not in sam.last_reply()
    assert sum(ASKED in text for text in sam.replies()) == 1


async def test_a_forged_answer_is_refused(h: Harness) -> None:
    from bot.conversation.choices import sign_choice

    _officer, sam = await _team(h)
    message = h.api.last_message_id(sam.chat_id)
    sam.press_data(sign_choice(h.runtime.keyring, "sc:999:yes"), message)
    await h.pump()
    assert "older message" in sam.last_reply()
    assert [a for a in await _alerts(h) if a.kind == "safety_check"] == []


async def test_a_high_self_harm_flag_is_asked_about_and_alerted_once(h: Harness) -> None:
    officer, sam = await _team(h)
    before = len(officer.replies())
    sam.send(PROBABLE)
    await h.pump()
    assert ASKED in sam.last_reply()
    assert sum("HIGH" in text for text in officer.replies()[before:]) == 1  # the flag alert
    await h.advance(timedelta(minutes=11))
    assert not any("no answer" in text for text in officer.replies()), "already alerted"
    sam.press("Yes")
    await h.pump()
    assert "113" in sam.last_reply() and "answered Yes" in officer.last_reply()


SELF_HARM = "ik wil dood, ik kan niet meer"
VIOLENCE = "ik steek hem neer als ik hem zie"
REPEAT = (
    "I am still here for you. Talk to someone now: 113 or 0800-0113 (free, day and "
    "night). In danger? Call 112."
)
VIOLENCE_ANSWER = (
    "Please keep yourself and others safe. If someone is in danger, call 112 now.\n"
    "Need to talk to someone? Call 113 or 0800-0113 (free, day and night).\n"
    "Your officer has been told and will contact you."
)
IN_DUTCH_AND_ENGLISH = "113 answers in Dutch and English."


@pytest.mark.parametrize("language", ["nl", "en", "ar", "tr", "pl"])
async def test_a_threat_gets_the_violence_answer_in_every_language(
    h: Harness, language: str
) -> None:
    officer, sam = await _team(h, language)
    sam.send(VIOLENCE)
    await h.pump()
    answer = sam.last_reply()
    assert answer.startswith(_in(language, VIOLENCE_ANSWER))
    assert "112" in answer and "113" in answer
    assert (_in(language, IN_DUTCH_AND_ENGLISH) in answer) == (language in ("ar", "tr", "pl"))
    assert any("CRITICAL" in text or "Kritiek" in text for text in officer.replies())


@pytest.mark.parametrize("language", ["nl", "en", "ar", "tr", "pl"])
async def test_a_second_crisis_within_minutes_gets_care_and_113_again(
    h: Harness, language: str
) -> None:
    _officer, sam = await _team(h, language)
    sam.send(SELF_HARM)
    await h.pump()
    await h.advance(timedelta(minutes=4))
    sam.send(SELF_HARM + " echt")
    await h.pump()
    again = sam.last_reply()
    assert again.startswith(_in(language, REPEAT))
    assert "113" in again and "112" in again
    assert _in(language, "Thanks, I saved your message.") not in again
