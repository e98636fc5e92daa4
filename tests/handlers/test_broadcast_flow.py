"""/broadcast for coordinators: guided, delivered, progress edited, final report."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.engine import scheduler
from db.models import Broadcast
from tests.clock import ManualClock
from tests.harness import Harness, running_harness


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def test_guided_broadcast_with_two_languages(h: Harness) -> None:
    coordinator = h.user(first_name="Coordinator")
    await h.add_staff(coordinator, role="coordinator", name="Coordinator Test")
    sam, kim = h.user(), h.user(first_name="Kim")
    await h.register(sam, language="English")
    await h.register(kim, name="Kim Test", language="Nederlands")
    coordinator.send("/broadcast")
    await h.pump()
    assert "Nederlands" in coordinator.last_reply()
    coordinator.send("Het loket is morgen dicht.")
    await h.pump()
    coordinator.press("English")
    await h.pump()
    coordinator.send("The office is closed tomorrow.")
    await h.pump()
    coordinator.press("No more languages")
    await h.pump()
    coordinator.press("Everyone")
    await h.pump()
    coordinator.press("Now")
    await h.pump()
    assert "Send this broadcast?" in coordinator.last_reply()
    coordinator.press("Send")
    await h.pump()
    assert "planned for 2 people" in coordinator.last_reply()
    await scheduler.run_broadcasts(h.runtime)
    await h.pump()
    assert sam.last_reply() == "The office is closed tomorrow."
    assert kim.last_reply() == "Het loket is morgen dicht."
    await scheduler.run_broadcasts(h.runtime)  # edits the progress and reports the end
    await h.pump()
    edits = h.api.calls("editMessageText", chat_id=coordinator.chat_id)
    assert edits and "2 sent" in edits[-1].params["text"]
    assert "done: 2 sent, 0 failed, 0 blocked" in coordinator.last_reply()


async def test_officers_cannot_broadcast(h: Harness) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    officer.send("/broadcast")
    await h.pump()
    assert "Only coordinators" in officer.last_reply()


async def test_broadcast_buttons_check_the_role_at_the_press(h: Harness) -> None:
    coordinator = h.user(first_name="Coordinator")
    await h.add_staff(coordinator, role="coordinator", name="Coordinator Test")
    sam = h.user()
    await h.register(sam)
    for step in ("/broadcast", "Het loket is morgen dicht."):
        coordinator.send(step)
        await h.pump()
    for button in ("No more languages", "Everyone", "Now"):
        coordinator.press(button)
        await h.pump()
    assert "Send this broadcast?" in coordinator.last_reply()
    await h.add_staff(coordinator, role="officer", name="Coordinator Test")  # role changed
    coordinator.press("Send")
    await h.pump()
    assert "Only coordinators" in coordinator.last_reply()
    async with h.runtime.sessions() as session:
        made = (await session.scalars(select(Broadcast))).all()
    assert made == []
