"""End to end: a participant checks in and asks for help with the buttons the bot sent,
then `oprit export` holds every message, the check-in, the request and the appointment."""

from __future__ import annotations

from pathlib import Path

from bot.localtelegram import LocalTelegram
from tests.e2e.botprocess import bot_env, oprit, oprit_json, running_bot
from tests.e2e.conversation import TelegramUser


def test_checkin_help_request_and_export(api: LocalTelegram, tmp_path: Path) -> None:
    env = bot_env(api.base_url, tmp_path)
    invite = oprit_json(
        env, tmp_path, "invite", "create", "--name", "Test Deelnemer", "--language", "en"
    )
    with running_bot(env, tmp_path):
        sam = TelegramUser(api, 7_200_001, language_code="en")
        sam.send(f"/start {invite['code']}")
        sam.wait_reply(containing="language")
        sam.press("English")
        sam.wait_reply(containing="agree")
        sam.press("Agree")
        sam.wait_reply(containing="all set")

        sam.send("✅ Check-in")
        sam.wait_reply(containing="How are you doing")
        sam.press("Okay")
        for next_question in ("housing", "work or school", "money", "health", "paperwork"):
            sam.wait_reply(containing=next_question)
            sam.press("Fine")
        sam.wait_reply(containing="Anything else")
        sam.send("Het gaat redelijk, ik zoek nog werk")
        sam.wait_reply(containing="Thank you")

        sam.send("🙋 I need help")
        sam.wait_reply(containing="What do you need help with")
        sam.press("Paperwork")
        sam.wait_reply(containing="Tell me")
        sam.send("Mijn DigiD werkt niet")
        sam.wait_reply(containing="Add more")
        sam.press("Send")
        confirmation = sam.wait_reply(containing="H-")
        assert "H-0001" in confirmation

    participants = oprit_json(env, tmp_path, "participants", "list")
    participant_id = participants[0]["id"]
    assert participants[0]["open_help_requests"] == 1
    planned = oprit_json(
        env,
        tmp_path,
        "appointment",
        "add",
        "--participant",
        str(participant_id),
        "--at",
        "2030-01-07T14:00",
        "--with",
        "Reclassering",
        "--location",
        "Stationsplein 1",
    )
    assert planned["at"] == "2030-01-07T13:00:00+00:00"
    assert len(planned["reminders"]) == 2

    exported = oprit_json(env, tmp_path, "export", "--participant", str(participant_id))
    assert exported["participant"]["name"] == "Test Deelnemer"
    texts = [m["text"] for m in exported["messages"] if m["direction"] == "in"]
    assert "Het gaat redelijk, ik zoek nog werk" in texts
    assert "Mijn DigiD werkt niet" in texts
    assert any(m["kind"] == "callback" for m in exported["messages"])
    assert any(m["direction"] == "out" for m in exported["messages"])
    (checkin,) = exported["checkins"]
    assert checkin["mood"] == "okay" and checkin["status"] == "completed"
    assert checkin["note"] == "Het gaat redelijk, ik zoek nog werk"
    (request,) = exported["help_requests"]
    assert (request["reference"], request["domain"], request["text"]) == (
        "H-0001",
        "paperwork",
        "Mijn DigiD werkt niet",
    )
    (appointment,) = exported["appointments"]
    assert appointment["with"] == "Reclassering"
    assert [a["kind"] for a in exported["alerts"]] == ["help_request"]


def test_appointment_add_rejects_garbage(api: LocalTelegram, tmp_path: Path) -> None:
    env = bot_env(api.base_url, tmp_path)
    for at in ("next tuesday", "2026-02-30T10:00", ""):
        result = oprit(
            env, tmp_path, "appointment", "add", "--participant", "1", "--at", at, "--with", "UWV"
        )
        assert result.returncode == 2, result.stderr
        assert "--at" in result.stderr and "Traceback" not in result.stderr
    result = oprit(
        env,
        tmp_path,
        "appointment",
        "add",
        "--participant",
        "999",
        "--at",
        "2030-01-01T10:00",
        "--with",
        "UWV",
    )
    assert result.returncode == 1
    assert "no participant" in result.stderr
