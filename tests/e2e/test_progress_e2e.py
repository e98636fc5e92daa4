"""Progress bars of long CLI work appear on a terminal only: with --json, or with stdout
and stderr going to pipes, the output is exactly what it was without them."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import sqlite3
import struct
import subprocess
import termios
from pathlib import Path

import pytest

from bot import crypto
from tests.e2e.botprocess import OPRIT, bot_env, oprit

COMMANDS = {"keys rotate": "re-encrypting", "purge": "purging"}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A database with a participant and enough encrypted messages for several batches."""
    env = bot_env("http://127.0.0.1:9/bot", tmp_path)
    made = oprit(env, tmp_path, "db", "upgrade")
    assert made.returncode == 0, made.stderr
    key = (tmp_path / "data" / "oprit.key").read_text().split()[0]
    keyring = crypto.Keyring([key.encode()])
    with sqlite3.connect(tmp_path / "data" / "oprit.db") as connection:
        connection.execute(
            "INSERT INTO participants (telegram_id, name, language, status, created_at, "
            "missed_checkins) VALUES (1, 'Kim Test', 'nl', 'active', '2026-12-01 10:00:00', 0)"
        )
        connection.executemany(
            "INSERT INTO messages (participant_id, direction, kind, chat_id, text, at) "
            "VALUES (1, 'in', 'text', 1, ?, '2026-12-01 10:00:00')",
            [(keyring.encrypt(f"bericht {n}"),) for n in range(1_200)],
        )
    return tmp_path


def in_a_terminal(workdir: Path, *args: str) -> str:
    """Run `oprit` with stdout and stderr on a pseudo-terminal; everything it showed."""
    controller, terminal = pty.openpty()
    # 24 rows, 100 columns: a new pseudo-terminal is 0 wide, and tqdm draws nothing in that
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [*OPRIT, *args],
        cwd=workdir,
        env=bot_env("http://127.0.0.1:9/bot", workdir),
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 0, shown
    return shown.decode(errors="replace")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_terminal_shows_progress(workdir: Path, command: str) -> None:
    shown = in_a_terminal(workdir, *command.split())
    assert COMMANDS[command] in shown


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_json_on_a_terminal_is_one_document_without_progress(workdir: Path, command: str) -> None:
    shown = in_a_terminal(workdir, *command.split(), "--json")
    assert COMMANDS[command] not in shown
    json.loads(shown)  # the terminal turned \n into \r\n; nothing else is there


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_pipes_get_the_plain_output(workdir: Path, command: str) -> None:
    result = oprit(bot_env("http://127.0.0.1:9/bot", workdir), workdir, *command.split())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1
    assert COMMANDS[command] not in result.stdout


def test_an_export_shows_progress_on_a_terminal_only(workdir: Path) -> None:
    assert "exporting" in in_a_terminal(workdir, "export", "--participant", "1")
    shown = in_a_terminal(workdir, "export", "--participant", "1", "--json")
    assert "exporting" not in shown
    assert json.loads(shown)["messages"]
    piped = oprit(
        bot_env("http://127.0.0.1:9/bot", workdir), workdir, "export", "--participant", "1"
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    assert len(json.loads(piped.stdout)["messages"]) == 1_200


def test_an_upgrade_of_a_new_database_shows_its_migrations_on_a_terminal_only(
    tmp_path: Path,
) -> None:
    terminal, piped, as_json = tmp_path / "terminal", tmp_path / "piped", tmp_path / "json"
    for place in (terminal, piped, as_json):
        place.mkdir()
    assert "upgrading" in in_a_terminal(terminal, "db", "upgrade")
    shown = in_a_terminal(as_json, "db", "upgrade", "--json")
    assert "upgrading" not in shown
    assert json.loads(shown)["revision"]
    result = oprit(bot_env("http://127.0.0.1:9/bot", piped), piped, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("database is at revision") and "upgrading" not in result.stdout
    # Nothing to do: no bar on a terminal either.
    assert "upgrading" not in in_a_terminal(terminal, "db", "upgrade")
