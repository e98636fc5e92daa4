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
    assert "2 years" in sam.last_reply(), "the same words as the consent (2 years)"
    sam.press("Send me my data")
    await harness.pump()
    readable, complete = (call.files["document"] for call in harness.api.calls("sendDocument"))
    assert readable.filename == "my-data.txt" and complete.filename == "my-data.json"
    text = readable.data.decode("utf-8")
    assert text.startswith("Everything Oprit saved about you, on")
    assert "Name: Test Deelnemer" in text and "You: hallo daar" in text
    assert "{" not in text, "a document to read, not JSON"
    data = json.loads(complete.data)
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
