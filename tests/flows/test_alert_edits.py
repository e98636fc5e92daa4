"""An alert is edited in place when someone acts on it: who picked it up and when, and the
buttons that no longer apply disappear; pressing twice does nothing twice."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.clock import ManualClock
from tests.e2e.conversation import message_text
from tests.harness import Harness, running_harness

CRISIS = "ik wil dood, ik kan niet meer"


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


def _labels(params: dict[str, Any]) -> list[str]:
    markup = params.get("reply_markup")
    markup = json.loads(markup) if isinstance(markup, str) else markup
    rows = (markup or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


async def test_acknowledge_then_resolve_edits_the_alert_in_place(h: Harness) -> None:
    olga = h.user(first_name="Olga")
    await h.add_staff(olga, name="Olga")
    sam = h.user()
    await h.register(sam, name="Sam", officer_telegram_id=olga.chat_id)
    sam.send(CRISIS)
    await h.pump()
    alert = next(m for m in reversed(olga._messages()) if message_text(m).startswith("🔴"))
    (ack,) = [
        button["callback_data"]
        for button in alert["reply_markup"]["inline_keyboard"][0]
        if "Acknowledge" in button["text"]
    ]
    for _press in range(2):  # pressing twice does nothing twice
        olga.press_data(ack, alert["message_id"])
        await h.pump()
    picked = [
        call.params
        for call in h.api.calls("editMessageText", chat_id=olga.chat_id)
        if "Picked up by Olga" in str(call.params["text"])
    ]
    assert len(picked) == 1, "the alert is edited once"
    assert "👀 Picked up by Olga, 10:00" in str(picked[0]["text"])
    assert _labels(picked[0]) == ["✍️ Reply", "✅ Resolved"], "Acknowledge no longer applies"
    assert olga.replies().count("Acknowledged: Sam.") == 1
    olga.press("✅ Resolved")
    await h.pump()
    resolved = [
        call.params
        for call in h.api.calls("editMessageText", chat_id=olga.chat_id)
        if "Resolved by Olga" in str(call.params["text"])
    ]
    assert len(resolved) == 1 and _labels(resolved[0]) == ["✍️ Reply"]


async def test_an_answered_question_shows_the_answer_and_loses_its_buttons(h: Harness) -> None:
    sam = h.user()
    await h.register(sam, name="Sam")
    sam.send("/checkin")
    await h.pump()
    question = next(m for m in reversed(sam._messages()) if m.get("reply_markup"))
    sam.press("🙂 Good")
    await h.pump()
    (edit,) = [
        call.params
        for call in h.api.calls("editMessageText", chat_id=sam.chat_id)
        if call.params.get("message_id") == question["message_id"]
    ]
    assert str(edit["text"]) == message_text(question) + "\n\n✔️ 🙂 Good"
    assert _labels(edit) == []


async def test_handled_shows_new_and_picked_up_alerts_apart(h: Harness) -> None:
    olga = h.user(first_name="Olga")
    await h.add_staff(olga, name="Olga")
    sam, kim = h.user(first_name="Sam"), h.user(first_name="Kim")
    await h.register(sam, name="Sam", officer_telegram_id=olga.chat_id)
    await h.register(kim, name="Kim", officer_telegram_id=olga.chat_id)
    sam.send(CRISIS)
    await h.pump()
    olga.press("👀 Acknowledge")
    await h.pump()
    kim.send(CRISIS)
    await h.pump()
    before = len(olga.replies())
    olga.send("/handled")
    await h.pump()
    listed = olga.replies()[before:]
    assert listed[0] == "New alerts:" and "Kim" in listed[1].splitlines()[0]
    assert listed[2] == "Picked up, not resolved yet:"
    assert "Sam" in listed[3].splitlines()[0] and "👀 Picked up by Olga, 10:00" in listed[3]


async def test_the_language_label_follows_the_text_not_the_profile(h: Harness) -> None:
    olga = h.user(first_name="Olga")
    await h.add_staff(olga, name="Olga")
    sam = h.user()
    await h.register(sam, name="Sam", language="العربية", officer_telegram_id=olga.chat_id)
    sam.send(CRISIS)  # Dutch, from someone whose profile says Arabic
    await h.pump()
    sam.send("أريد أن أموت")
    await h.pump()
    alerts = [text for text in olga.replies() if text.startswith("🔴")]
    assert "(written in Dutch)" in alerts[0]
    assert "(written in Arabic)" in alerts[1]
