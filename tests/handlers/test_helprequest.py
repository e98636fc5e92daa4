"""Help requests through the real Application."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from db.models import Alert, HelpRequest
from tests.clock import ManualClock
from tests.harness import Harness, running_harness


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def test_request_with_text_photo_and_reference(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("🙋 I need help")
    await harness.pump()
    assert "What do you need help with?" in sam.last_reply()
    sam.press("Money")
    await harness.pump()
    sam.send("Ik heb een brief van de belastingdienst")
    sam.send_photo(caption="de brief")
    await harness.pump()
    sam.press("Send")
    await harness.pump()
    assert "H-0001" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        request = (await session.scalars(select(HelpRequest))).one()
        alert = (await session.scalars(select(Alert))).one()
    assert request.domain == "money"
    assert request.text == "Ik heb een brief van de belastingdienst\nde brief"
    assert request.media_file_ids and len(request.media_file_ids) == 1
    assert (alert.kind, alert.severity, alert.help_request_id) == ("help_request", "medium", 1)
    sam.send("/request")
    await harness.pump()
    assert "H-0001" in sam.replies()[-2]
    assert "waiting for your officer" in sam.replies()[-2]


async def test_urgent_is_a_high_alert(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/request")
    await harness.pump()
    sam.press("Urgent")
    await harness.pump()
    assert sam.last_reply().startswith("🚨 Danger? Call 112 now.\n")
    sam.send_voice()
    await harness.pump()
    sam.press("Send")
    await harness.pump()
    assert sam.last_reply().endswith("\n🚨 Danger? Call 112 now.")
    async with harness.runtime.sessions() as session:
        alert = (await session.scalars(select(Alert))).one()
    assert alert.severity == "high"


async def test_send_without_description_and_cancel(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    sam.send("/request")
    await harness.pump()
    sam.press("Housing")
    await harness.pump()
    sam.press("Send")
    await harness.pump()
    assert "first write" in sam.last_reply()
    sam.press("Cancel")
    await harness.pump()
    assert "Nothing was sent" in sam.last_reply()
    sam.press("Send")
    await harness.pump()
    assert "older message" in sam.last_reply()
    async with harness.runtime.sessions() as session:
        assert (await session.scalars(select(HelpRequest))).all() == []
