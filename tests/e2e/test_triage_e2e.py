"""End to end: a crisis gets the safety answer first and reaches the officer; `oprit triage`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bot.localtelegram import LocalTelegram
from tests.e2e.botprocess import bot_env, oprit, oprit_json, running_bot
from tests.e2e.conversation import TelegramUser


@pytest.mark.parametrize(
    ("text", "language", "button"),
    [
        ("ik wil er een eind aan maken", "nl", "Nederlands"),
        ("I want to end it all tonight", "en", "English"),
    ],
)
def test_crisis_gets_113_first_and_an_alert(
    api: LocalTelegram, tmp_path: Path, text: str, language: str, button: str
) -> None:
    env = bot_env(api.base_url, tmp_path)
    officer_id = 6_300_001
    oprit_json(
        env,
        tmp_path,
        "staff",
        "add",
        "--telegram-id",
        str(officer_id),
        "--role",
        "officer",
        "--name",
        "Officer Test",
    )
    invite = oprit_json(env, tmp_path, "invite", "create", "--officer", str(officer_id))
    with running_bot(env, tmp_path):
        officer = TelegramUser(api, officer_id, first_name="Officer", language_code="nl")
        officer.send("/start")
        officer.wait_reply()
        sam = TelegramUser(api, 7_300_001, language_code=language)
        sam.send(f"/start {invite['code']}")
        sam.wait_reply()
        sam.press(button)
        sam.wait_reply()
        sam.press("👍")
        sam.wait_reply()
        before = len(sam.replies())
        sam.send(text)
        first = sam.wait_reply()
        assert "113" in first and "0800-0113" in first and "112" in first
        assert len(sam.replies()) == before + 1  # nothing else came first
        alert = officer.wait_reply(containing="🔴 KRITIEK")  # the officer reads Dutch
        assert "Zelfbeschadiging of zelfmoordgedachten" in alert
    database = sqlite3.connect(tmp_path / "data" / "oprit.db")
    rows = database.execute("SELECT kind, severity FROM alerts").fetchall()
    assert rows == [("flag", "critical")]


def test_triage_command_reads_json_lines(tmp_path: Path) -> None:
    env = bot_env("http://127.0.0.1:9/bot", tmp_path)
    lines = "\n".join(
        [
            json.dumps({"text": "ik wil er een eind aan maken", "lang": "nl"}),
            json.dumps({"text": "I want to kill myself", "lang": "en"}),
            json.dumps({"text": "hoi, tot morgen", "lang": "nl"}),
            "this is not json",
            json.dumps({"text": 42}),
            json.dumps({"text": "geen taal"}),
            "",
        ]
    )
    result = oprit(env, tmp_path, "triage", stdin=lines)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 6
    assert out[0]["severity"] == "critical" and out[0]["categories"] == ["self_harm"]
    assert out[0]["matches"] and all(m in "ik wil er een eind aan maken" for m in out[0]["matches"])
    assert out[1]["severity"] == "critical"
    assert out[2] == {"flagged": False, "severity": "none", "categories": [], "matches": []}
    assert "error" in out[3] and "error" in out[4]
    assert out[5]["flagged"] is False


def test_triage_command_survives_invalid_utf8(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = bot_env("http://127.0.0.1:9/bot", tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "triage"],
        env=env,
        cwd=tmp_path,
        input=b'{"text": "ik wil dood \xff\xfe", "lang": "nl"}\n\x00\x00\n',
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.decode().splitlines())
    assert first["severity"] == "critical"
    assert "error" in second
