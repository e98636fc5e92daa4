"""End to end: `oprit run` as a process, a participant registers over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.localtelegram import LocalTelegram
from tests.e2e.botprocess import bot_env, oprit, oprit_json, running_bot
from tests.e2e.conversation import TelegramUser


def test_participant_registers_with_an_invite(api: LocalTelegram, tmp_path: Path) -> None:
    env = bot_env(api.base_url, tmp_path)
    officer_id = 6_100_001
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
    invite = oprit_json(
        env, tmp_path, "invite", "create", "--officer", str(officer_id), "--name", "Test Deelnemer"
    )
    assert set(invite) == {"code", "link", "expires_at"}
    assert invite["link"] == f"https://t.me/{api.bot_username}?start={invite['code']}"

    with running_bot(env, tmp_path) as process:
        sam = TelegramUser(api, 7_100_001, first_name="Sam", language_code="nl")
        sam.send(f"/start {invite['code']}")
        sam.wait_reply(containing="Oprit")
        sam.press("English")
        sam.wait_reply(containing="agree")
        sam.press("Agree")
        sam.wait_reply(containing="all set")
        assert len(sam.keyboard()) == 5  # check-in, help, appointments, plan, language
        sam.send("hello, is this working?")
        sam.wait_reply(containing="saved")

        other = TelegramUser(api, 7_100_002, language_code="nl")
        other.send(f"/start {invite['code']}")
        other.wait_reply(containing="werkt niet")
        assert process.poll() is None

    participants = oprit_json(env, tmp_path, "participants", "list")
    assert len(participants) == 1
    row = participants[0]
    assert set(row) == {
        "id",
        "name",
        "telegram_id",
        "language",
        "status",
        "last_checkin_at",
        "open_help_requests",
        "next_appointment_at",
    }
    assert (row["name"], row["language"], row["status"], row["telegram_id"]) == (
        "Test Deelnemer",
        "en",
        "active",
        7_100_001,
    )
    assert (tmp_path / "data" / "oprit.key").stat().st_mode & 0o777 == 0o600


def test_run_without_token_explains_botfather(tmp_path: Path) -> None:
    env = bot_env("http://127.0.0.1:9/bot", tmp_path)
    del env["OPRIT_BOT_TOKEN"]
    result = oprit(env, tmp_path, "run")
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "extra_env", "fragment"),
    [
        (["staff", "list"], {"OPRIT_DATABASE_URL": "nonsense"}, "OPRIT_DATABASE_URL"),
        (["staff", "add", "--telegram-id", "5", "--role", "boss", "--name", "X"], {}, "role"),
        (["staff", "add", "--telegram-id", "abc", "--role", "officer", "--name", "X"], {}, "abc"),
        (["invite", "create", "--expires", "forever"], {}, "--expires"),
        (["invite", "create", "--language", "xx"], {}, "language"),
        (["frobnicate"], {}, "invalid choice"),
        (
            ["staff", "list"],
            {"OPRIT_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1:9/x"},
            "database",
        ),
        (["staff", "list"], {"OPRIT_ENCRYPTION_KEY": "not-a-key"}, "OPRIT_ENCRYPTION_KEY"),
    ],
)
def test_bad_input_is_one_clear_line(
    tmp_path: Path, args: list[str], extra_env: dict[str, str], fragment: str
) -> None:
    env = bot_env("http://127.0.0.1:9/bot", tmp_path, **extra_env)
    result = oprit(env, tmp_path, *args)
    assert result.returncode != 0
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_json_output_is_one_document(api: LocalTelegram, tmp_path: Path) -> None:
    env = bot_env(api.base_url, tmp_path)
    for args in (["staff", "list"], ["participants", "list"], ["db", "current"], ["db", "upgrade"]):
        result = oprit(env, tmp_path, *args, "--json")
        assert result.returncode == 0, result.stderr
        json.loads(result.stdout)
