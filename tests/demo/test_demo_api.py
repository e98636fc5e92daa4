"""The demo end to end through its control API: the real bot, the local Telegram, the
invented people, time travel, and hostile input to every endpoint."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.demo.conftest import RunningDemo, start_demo, stop_demo


def _bot(containing: str) -> Any:
    return lambda m: m["from"] == "bot" and containing.lower() in m["text"].lower()


def test_every_phone_is_there(demo: RunningDemo) -> None:
    chats = demo.get("/api/chats")
    kinds = [chat["kind"] for chat in chats]
    assert kinds.count("officer") == kinds.count("coordinator") == kinds.count("group") == 1
    languages = {chat["language"] for chat in chats if chat["kind"] == "participant"}
    assert languages == {"nl", "en", "ar", "tr", "pl"}
    for chat in chats:
        assert set(chat) >= {"id", "title", "kind"}
    group = next(chat for chat in chats if chat["kind"] == "group")
    assert group["topics"], "a topic per participant, made by the bot (20 a minute at most)"


def test_the_invented_data_is_realistic(demo: RunningDemo) -> None:
    officer = demo.chat_id("officer")
    alerts = demo.get(f"/api/chats/{officer}/messages")
    assert any("Sam Whitfield" in m["text"] and m["buttons"] for m in alerts)  # open crisis
    kasia = demo.chat_id("participant", "pl")
    sent = demo.get(f"/api/chats/{kasia}/messages")
    assert any(m.get("photo") for m in sent) and any(m.get("voice") for m in sent)
    photo = next(m["photo"] for m in sent if m.get("photo"))
    status, image = demo.request("GET", photo)
    assert status == 200 and image[:2] == b"\xff\xd8", "a JPEG"
    jordy = demo.chat_id("participant", "nl")
    messages = demo.get(f"/api/chats/{jordy}/messages")
    assert any(m["keyboard"] for m in messages), "the participant keyboard"
    assert any("Stadswonen" in m["text"] and m["buttons"] for m in messages), "an appointment"


def test_a_crisis_reaches_the_participant_and_the_officer_within_two_seconds(
    demo: RunningDemo,
) -> None:
    participant = demo.chat_id("participant", "tr")
    officer = demo.chat_id("officer")
    after_p, after_o = demo.last_id(participant), demo.last_id(officer)
    started = time.monotonic()
    status, sent = demo.request(
        "POST",
        f"/api/chats/{participant}/messages",
        {"text": "I want to kill myself tonight, I have the pills ready."},
    )
    assert status == 201 and sent["from"] == "user"
    safety = demo.wait_message(participant, _bot("113"), after_p, timeout=2)
    assert "112" in safety["text"]
    alert = demo.wait_message(officer, _bot("Emre"), after_o, timeout=2)
    assert time.monotonic() - started < 2.5
    assert alert["buttons"], "Reply / Acknowledge / Resolved"

    after_p = demo.last_id(participant)
    status, _ = demo.request(
        "POST",
        f"/api/chats/{officer}/messages",
        {"text": "Ik bel je nu meteen, Emre.", "reply_to": alert["id"]},
    )
    assert status == 201
    demo.wait_message(participant, _bot("Ik bel je nu meteen"), after_p, timeout=2)


def test_a_button_press_is_answered(demo: RunningDemo) -> None:
    participant = demo.chat_id("participant", "en")
    after = demo.last_id(participant)
    demo.request("POST", f"/api/chats/{participant}/messages", {"text": "/checkin"})
    question = demo.wait_message(participant, lambda m: bool(m["buttons"]), after)
    button = question["buttons"][0][0]
    status, body = demo.request(
        "POST",
        f"/api/chats/{participant}/press",
        {"message_id": question["id"], "data": button["data"]},
    )
    assert status == 200 and body["ok"]
    demo.wait_message(participant, lambda m: m["from"] == "bot" and m["buttons"], question["id"])


def test_time_travel_brings_the_check_in_prompt_and_a_reminder(demo: RunningDemo) -> None:
    before = demo.get("/api/clock")
    polish = demo.chat_id("participant", "pl")
    after = demo.last_id(polish)
    status, clock = demo.request("POST", "/api/clock", {"to": "tomorrow 10:00"})
    assert status == 200 and clock["now"] > before["now"]
    assert clock["local"].endswith("10:00")
    demo.wait_message(polish, lambda m: m["from"] == "bot" and m["buttons"], after, timeout=5)

    jordy = demo.chat_id("participant", "nl")
    after = demo.last_id(jordy)
    status, clock = demo.request("POST", "/api/clock", {"to": "before next appointment"})
    assert status == 200
    reminder = demo.wait_message(jordy, _bot("Stadswonen"), after, timeout=5)
    assert reminder["buttons"]

    status, moved = demo.request("POST", "/api/clock", {"advance": "1h"})
    assert status == 200 and moved["ahead_seconds"] >= clock["ahead_seconds"] + 3600 - 5


def test_a_new_participant_signs_up_through_a_real_invite(demo: RunningDemo) -> None:
    status, chat = demo.request(
        "POST", "/api/participants", {"name": "Lina\u202e Testperson", "language": "ar"}
    )
    assert status == 201, chat
    assert chat["kind"] == "participant" and chat["language"] == "ar"
    assert "\u202e" not in chat["title"]
    messages = demo.get(f"/api/chats/{chat['id']}/messages")
    assert messages[0]["text"].startswith("/start ")
    assert any(m["keyboard"] for m in messages)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": ""}, 400),
        ({"text": "   \n "}, 400),
        ({}, 400),
        ({"text": 42}, 400),
        ({"text": "x" * 4097}, 400),
        ({"text": "hi", "reply_to": 999_999}, 400),
        ({"text": "hi", "reply_to": "1"}, 400),
        ({"text": "hi", "thread_id": 1}, 400),
        ({"attachment": "virus.exe"}, 400),
        ({"text": "Hallo\x00wereld"}, 201),
        ({"text": "\u202etxt.exe \u2067مرحبا\u2069"}, 201),
        ({"text": "<script>alert(1)</script>&amp;"}, 201),
        ({"attachment": "photo", "text": "een foto"}, 201),
        ({"attachment": "voice"}, 201),
    ],
)
def test_hostile_messages(demo: RunningDemo, body: dict[str, Any], status: int) -> None:
    participant = demo.chat_id("participant", "nl")
    got, answer = demo.request("POST", f"/api/chats/{participant}/messages", body)
    assert got == status, answer
    if status == 201:  # in the chat as sent (the fixture fails on any error in the bot)
        shown = demo.get(f"/api/chats/{participant}/messages?after={answer['id'] - 1}")[0]
        assert shown["from"] == "user" and shown["text"] == body.get("text", shown["text"])


@pytest.mark.parametrize(
    ("method", "path", "raw", "status"),
    [
        ("GET", "/api/chats/123/messages", None, 404),
        ("GET", "/api/chats/abc/messages", None, 404),
        ("GET", "/api/chats/-1/messages", None, 404),
        ("POST", "/api/chats/123/messages", b'{"text": "hi"}', 404),
        ("POST", "/api/chats/123/press", b'{"message_id": 1, "data": "x"}', 404),
        ("POST", "/api/clock", b"{not json", 400),
        ("POST", "/api/clock", b"[1, 2]", 400),
        ("POST", "/api/clock", b"{}", 400),
        ("POST", "/api/clock", b'{"advance": "-1h"}', 400),
        ("POST", "/api/clock", b'{"advance": "soon"}', 400),
        ("POST", "/api/clock", b'{"advance": "9999w"}', 400),
        ("POST", "/api/clock", b'{"to": "yesterday"}', 400),
        ("POST", "/api/clock", b'{"to": "2001-01-01T10:00"}', 400),
        ("POST", "/api/participants", b'{"name": "", "language": "nl"}', 400),
        ("POST", "/api/participants", b'{"name": "\\u0000\\u202e", "language": "nl"}', 400),
        ("POST", "/api/participants", b'{"name": "Ann", "language": "xx"}', 400),
        ("POST", "/api/participants", b'{"name": "' + b"A" * 200 + b'", "language": "nl"}', 400),
        ("POST", "/api/participants", b"\xff\xfe", 400),
        ("GET", "/static/../server.py", None, 404),
        ("GET", "/files/../../etc/passwd", None, 404),
        ("GET", "/files/LOCAL-photo-999999", None, 404),
    ],
)
def test_hostile_requests(
    demo: RunningDemo, method: str, path: str, raw: bytes | None, status: int
) -> None:
    got, answer = demo.request(method, path, raw=raw)
    assert got == status, answer


def test_a_reaction_shows_on_the_message(demo: RunningDemo) -> None:
    jordy = demo.chat_id("participant", "nl")
    answer = demo.wait_message(jordy, _bot("huurtoeslag"))
    assert answer["reactions"] == ["🙏"], "the invented data has one"
    status, _ = demo.request(
        "POST", f"/api/chats/{jordy}/react", {"message_id": answer["id"], "emoji": "👍"}
    )
    assert status == 200
    assert demo.wait_message(jordy, _bot("huurtoeslag"))["reactions"] == ["👍"]
    for body in (
        {"message_id": answer["id"], "emoji": "<b>"},
        {"message_id": 999_999, "emoji": "👍"},
        {"message_id": answer["id"]},
    ):
        status, _ = demo.request("POST", f"/api/chats/{jordy}/react", body)
        assert status == 400, body


def test_garbage_presses_and_replies(demo: RunningDemo) -> None:
    participant = demo.chat_id("participant", "nl")
    last = demo.get(f"/api/chats/{participant}/messages")[-1]
    for body in (
        {"message_id": last["id"], "data": "reg:forged:agree:0000"},
        {"message_id": 999_999, "data": "x"},
        {"message_id": "1", "data": "x"},
        {"message_id": last["id"]},
        {"message_id": True, "data": "x"},
    ):
        status, _ = demo.request("POST", f"/api/chats/{participant}/press", body)
        assert status == 400, body
    status, _ = demo.request(
        "POST", f"/api/chats/{participant}/messages", raw=b'{"text": "x' + b"y" * 70_000 + b'"}'
    )
    assert status == 413
    status, _ = demo.request(
        "POST", f"/api/chats/{participant}/messages", raw=b'{"text": "broken \\ud800 half"}'
    )
    assert status in (201, 400)


def test_make_run_without_a_token_serves_the_demo_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    demo = start_demo(tmp_path, ("run", "--demo-without-token"))
    try:
        chats = demo.get("/api/chats")
        assert len(chats) == 8
        page = demo.request("GET", "/")
        assert page[0] == 200
    finally:
        code = stop_demo(demo)
    output = demo.log.read_text()
    assert code == 0, output
    assert f"open {demo.url}/" in output
    assert "Traceback" not in output
    assert (tmp_path / "data" / "demo.db").exists() and (tmp_path / "data" / "demo.key").exists()
    assert not (tmp_path / "data" / "oprit.db").exists(), "the real database is left alone"
