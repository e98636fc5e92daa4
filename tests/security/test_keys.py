"""A wrong or missing key stops Oprit with one clear sentence, before anything is written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot import crypto
from tests.e2e.botprocess import oprit

KEY_A = crypto.generate_key()
KEY_B = crypto.generate_key()


def _env(tmp_path: Path, key: str | None = None) -> dict[str, str]:
    import os

    env = {name: value for name, value in os.environ.items() if not name.startswith("OPRIT_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    if key is not None:
        env["OPRIT_ENCRYPTION_KEY"] = key
    return env


def _with_a_message(tmp_path: Path, key: str | None = None) -> None:
    """A database with one participant and one encrypted message."""
    made = oprit(_env(tmp_path, key), tmp_path, "db", "upgrade")
    assert made.returncode == 0, made.stderr
    database = tmp_path / "data" / "oprit.db"
    if key is None:
        key = (tmp_path / "data" / "oprit.key").read_text().split()[0]
    keyring = crypto.Keyring([key.encode()])
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO participants (telegram_id, name, language, status, created_at, "
            "missed_checkins) VALUES (1, 'Kim Test', 'nl', 'active', '2026-12-01 10:00:00', 0)"
        )
        connection.execute(
            "INSERT INTO messages (participant_id, direction, kind, chat_id, text, at) "
            "VALUES (1, 'in', 'text', 1, ?, '2026-12-01 10:00:00')",
            (keyring.encrypt("ik heb schulden"),),
        )


def test_first_start_makes_a_private_key_file_and_a_check_value(tmp_path: Path) -> None:
    result = oprit(_env(tmp_path), tmp_path, "db", "upgrade", "--json")
    assert result.returncode == 0, result.stderr
    key_file = tmp_path / "data" / "oprit.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    with sqlite3.connect(tmp_path / "data" / "oprit.db") as connection:
        (token,) = connection.execute(
            "SELECT value FROM key_value WHERE key = 'key_check'"
        ).fetchone()
    assert crypto.Keyring([key_file.read_text().split()[0].encode()]).can_read(token)


def test_a_missing_key_file_is_never_replaced_when_data_exists(tmp_path: Path) -> None:
    _with_a_message(tmp_path)
    key_file = tmp_path / "data" / "oprit.key"
    key_file.unlink()
    result = oprit(_env(tmp_path), tmp_path, "participants", "list", "--json")
    assert result.returncode == 2
    assert "key file" in result.stderr and "missing" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not key_file.exists()


@pytest.mark.parametrize("wrong_place", ["environment", "key file"])
def test_a_wrong_key_refuses_to_start(tmp_path: Path, wrong_place: str) -> None:
    _with_a_message(tmp_path, KEY_A)
    if wrong_place == "environment":
        env = _env(tmp_path, KEY_B)
    else:
        crypto.write_key_file(tmp_path / "data" / "oprit.key", [KEY_B])
        env = _env(tmp_path)
    result = oprit(env, tmp_path, "participants", "list", "--json")
    assert result.returncode == 2
    assert "cannot read this database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    right = oprit(_env(tmp_path, f"{KEY_B},{KEY_A}"), tmp_path, "participants", "list", "--json")
    assert right.returncode == 0, right.stderr


def test_a_database_from_before_the_check_is_checked_by_its_data(tmp_path: Path) -> None:
    _with_a_message(tmp_path, KEY_A)
    with sqlite3.connect(tmp_path / "data" / "oprit.db") as connection:
        connection.execute("DELETE FROM key_value WHERE key = 'key_check'")
    refused = oprit(_env(tmp_path, KEY_B), tmp_path, "participants", "list", "--json")
    assert refused.returncode == 2 and "cannot read this database" in refused.stderr
    accepted = oprit(_env(tmp_path, KEY_A), tmp_path, "participants", "list", "--json")
    assert accepted.returncode == 0, accepted.stderr
    with sqlite3.connect(tmp_path / "data" / "oprit.db") as connection:
        stored = connection.execute("SELECT count(*) FROM key_value WHERE key = 'key_check'")
        assert stored.fetchone() == (1,)
