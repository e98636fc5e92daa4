"""One conversation in every language, asserting what each side reads: the participant's
message reaches the officer, the officer's reply arrives labelled in the participant's
language, a paused participant is still reached, a crisis gets 113 in their language, and
a Dutch officer reads no English ids."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.i18n import _, language_name, use_language
from bot.services import safety
from tests.clock import ManualClock
from tests.harness import Harness, running_harness

LANGUAGES = ["nl", "en", "ar", "tr", "pl"]
CRISIS = "ik wil dood, ik kan niet meer"


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


def _in(language: str, text: str) -> str:
    with use_language(language):
        return _(text)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_conversation_in_every_language(h: Harness, language: str) -> None:
    olga = h.user(first_name="Olga")
    await h.add_staff(olga, name="Olga", language="nl")
    sam = h.user(first_name="Sam")
    with use_language(language):
        label = language_name(language, language)
    await h.register(sam, name="Sam", language=label, officer_telegram_id=olga.chat_id)

    sam.send("thuis bij mijn moeder")
    await h.pump()
    assert "💬 Sam: thuis bij mijn moeder" in olga.replies()
    assert sam.last_reply() == _in(
        language, "Thanks, I saved your message. Your officer reads along."
    )

    olga.press("✍️ Antwoord")
    await h.pump()
    with use_language("nl"):
        reads = language_name(language, "nl")
    assert f"(leest {reads})" in olga.last_reply()
    olga.send("Fijn. Tot morgen!")
    await h.pump()
    heading = _in(language, "💬 {name}, your officer:").format(name="Olga")
    assert sam.last_reply() == heading + "\nFijn. Tot morgen!"
    assert olga.last_reply() == "✓ Verstuurd aan Sam"

    sam.send("/stop")
    await h.pump()
    sam.press(_in(language, "Yes, pause"))
    await h.pump()
    olga.press("✍️ Antwoord")  # the officer can still write to a paused participant
    await h.pump()
    olga.send("Ben je er nog?")
    await h.pump()
    assert sam.last_reply() == heading + "\nBen je er nog?"

    sam.send(CRISIS)
    await h.pump()
    answer = sam.last_reply()
    assert "113" in answer and "112" in answer
    with use_language(language):
        expected = safety.safety_reply(("self_harm",)).text
    assert answer == expected
    alert = next(text for text in olga.replies() if text.startswith("🔴"))
    assert alert.startswith("🔴 KRITIEK · Sam")
    for english in ("CRITICAL", "self_harm", "(#", "Flagged", "written in"):
        assert english not in alert
