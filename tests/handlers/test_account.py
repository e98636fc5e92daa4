"""/language, /stop, /privacy and *Send me my data*, /help, and staff vs participants."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.clock import ManualClock
from tests.harness import Harness, running_harness


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def test_change_language(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("🌐 Language")
    await harness.pump()
    sam.press("Nederlands")
    await harness.pump()
    assert "taal" in sam.last_reply().lower() or "schrijf" in sam.last_reply().lower()
    assert "✅ Check-in" in sam.keyboard()
    assert "🙋 Ik heb hulp nodig" in sam.keyboard()
    sam.send("🙋 Ik heb hulp nodig")
    await harness.pump()
    assert "Waarmee" in sam.last_reply()


async def test_old_keyboard_in_another_language_still_works(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam, language="Nederlands")
    sam.send("📅 My appointments")
    await harness.pump()
    assert "afspraken" in sam.last_reply()


async def test_privacy_and_my_data(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("hallo daar")
    sam.send("/privacy")
    await harness.pump()
    assert "730 days" in sam.last_reply()
    sam.press("Send me my data")
    await harness.pump()
    document = harness.api.calls("sendDocument")[-1].files["document"]
    data = json.loads(document.data)
    assert data["participant"]["name"] == "Test Deelnemer"
    assert "hallo daar" in [m["text"] for m in data["messages"]]


async def test_help_is_four_short_lines(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/help")
    await harness.pump()
    assert len(sam.last_reply().splitlines()) == 4


async def test_staff_typing_participant_commands_get_staff_help(harness: Harness) -> None:
    officer = harness.user(first_name="Officer")
    await harness.add_staff(officer)
    for command in ("/checkin", "/request", "/privacy"):  # /appointments is a staff command too
        officer.send(command)
    await harness.pump()
    assert [text for text in officer.replies() if "Officer commands" not in text] == []
