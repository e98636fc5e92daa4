"""Message text is unreadable on disk, and keys rotate while the bot keeps running."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import crypto
from bot.app import create_runtime
from bot.clock import ManualClock
from db import migrate
from db.models import Message, Participant
from tests.conftest import make_settings
from tests.harness import Harness, running_harness

SECRETS = ("deurwaarder", "Belastingdienst", "heroine", "DigiD-wachtwoord")


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def test_database_file_shows_no_message_text(h: Harness, tmp_path: Path) -> None:
    sam = h.user()
    await h.register(sam)
    sam.send("Ik heb een schuld bij de deurwaarder en de Belastingdienst")
    sam.send("/request")
    await h.pump()
    sam.press("Money")
    await h.pump()
    sam.send("Ik heb weer heroine gebruikt, sorry")
    await h.pump()
    sam.press("Send")
    await h.pump()
    sam.send("/checkin")
    await h.pump()
    sam.press("Bad")
    await h.pump()
    for _ in range(5):
        sam.press("Problem")
        await h.pump()
    sam.send("Mijn DigiD-wachtwoord kwijt")
    await h.pump()
    await h.runtime.engine.dispose()  # flush the WAL into the file as well
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("oprit.db*"))
    assert raw, "the database file should exist"
    for secret in SECRETS:
        assert secret.encode() not in raw, f"{secret!r} is readable on disk"
        assert secret.lower().encode() not in raw.lower()


def test_keys_rotate_while_a_process_keeps_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(crypto, "_active", crypto.active())  # restored after the test
    monkeypatch.setattr(crypto, "_key_file", None)
    settings = make_settings(encryption_key=None, database_url="sqlite+aiosqlite:///data/oprit.db")

    async def write_and_read(text: str | None) -> list[str]:
        runtime = create_runtime(settings)
        await migrate.upgrade(runtime.engine)
        async with runtime.sessions() as session, session.begin():
            if text is not None:
                participant = Participant(
                    telegram_id=1,
                    name="Test Deelnemer",
                    language="nl",
                    status="active",
                    created_at=runtime.clock.now(),
                )
                session.add(participant)
                await session.flush()
                session.add(
                    Message(
                        participant_id=participant.id,
                        direction="in",
                        kind="text",
                        chat_id=1,
                        text=text,
                        at=runtime.clock.now(),
                    )
                )
        async with runtime.sessions() as session:
            texts = [m.text or "" for m in (await session.scalars(select(Message))).all()]
        await runtime.engine.dispose()
        return texts

    import asyncio

    assert asyncio.run(write_and_read("oude sleutel tekst")) == ["oude sleutel tekst"]
    key_file = tmp_path / "data" / "oprit.key"
    old_keys = crypto.keys_in_file(key_file)
    still_running = crypto.active()  # the "running bot" keeps its old keyring in memory

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "keys", "rotate", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["batches"] >= 1
    new_keys = crypto.keys_in_file(key_file)
    assert new_keys[1:] == old_keys and len(new_keys) == 2
    assert (key_file.stat().st_mode & 0o777) == 0o600

    crypto.activate(still_running, key_file)  # the old process meets the new tokens
    assert asyncio.run(write_and_read(None)) == ["oude sleutel tekst"]
    only_new = crypto.Keyring([new_keys[0].encode()])
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "oprit.db") as database:
        (token,) = database.execute("SELECT text FROM messages").fetchone()
    assert only_new.decrypt(token) == "oude sleutel tekst"
