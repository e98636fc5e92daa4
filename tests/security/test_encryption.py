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
from bot.app import open_runtime
from bot.channels.telegram.parse import chat_and_text
from bot.engine import inbox
from db import outbox as outbox_db
from db import retention
from db.models import InboxUpdate, Message, OutboxItem, Participant
from db.types import bind_cipher
from tests.clock import ManualClock
from tests.conftest import make_settings
from tests.harness import Harness, running_harness

SECRETS = (
    "deurwaarder",
    "Belastingdienst",
    "heroine",
    "DigiD-wachtwoord",
    "Betalingsregeling",
    "✓ Sent to Test Deelnemer",
)


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def test_database_file_shows_no_message_text(h: Harness, tmp_path: Path) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    sam = h.user()
    await h.register(sam, officer_telegram_id=officer.chat_id)
    sam.send("Ik heb een schuld bij de deurwaarder en de Belastingdienst")
    await h.pump()
    alert = h.api.last_message_id(officer.chat_id)  # alerts quote the text: outbox rows
    officer.reply_to(alert, "Betalingsregeling: ik bel de deurwaarder morgen")
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
    assert any("Betalingsregeling" in text for text in sam.replies())
    assert any("✓ Sent to Test Deelnemer" in text for text in officer.replies())
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
    settings = make_settings(encryption_key=None, database_url="sqlite+aiosqlite:///data/oprit.db")

    async def write_and_read(text: str | None, keyring: crypto.Keyring | None = None) -> list[str]:
        runtime = await open_runtime(settings)
        if keyring is not None:  # a process that started before the rotation
            bind_cipher(runtime.engine, keyring)
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
    still_running = crypto.load_keyring(None, key_file)  # the running bot's keys in memory
    assert still_running is not None

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

    # the old process meets the new tokens
    assert asyncio.run(write_and_read(None, still_running)) == ["oude sleutel tekst"]
    only_new = crypto.Keyring([new_keys[0].encode()])
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "oprit.db") as database:
        (token,) = database.execute("SELECT text FROM messages").fetchone()
    assert only_new.decrypt(token) == "oude sleutel tekst"


async def _seal_with_another_key(h: Harness, table: str, key: str, column: str, row: object) -> str:
    """Overwrite one stored value with a token no configured key can read."""
    foreign = crypto.Keyring([crypto.generate_key().encode()]).encrypt('{"text": "x"}')
    async with h.runtime.sessions() as session, session.begin():
        await retention.set_raw_token(session, table, key, column, row, foreign)
    return foreign


async def test_an_undecryptable_outbox_row_fails_alone_and_is_kept(h: Harness) -> None:
    coordinator = h.user(first_name="Coordinator")
    await h.add_staff(coordinator, role="coordinator", name="Coordinator Test")
    sam = h.user()
    await h.register(sam)
    rows = []
    for _ in range(2):
        async with h.runtime.sessions() as session, session.begin():
            row = outbox_db.add(
                session,
                kind="reply",
                chat_id=sam.chat_id,
                payload={"text": "kwijt"},
                due_at=h.clock.now(),
            )
            await session.flush()
            rows.append(row.id)
    tokens = [await _seal_with_another_key(h, "outbox", "id", "payload", row) for row in rows]
    counted = h.runtime.metrics.undecryptable.labels("outbox")._value.get()
    sam.send("/help")
    await h.pump()
    assert "Check-in" in sam.last_reply()  # everything else goes on
    async with h.runtime.sessions() as session:
        for row_id, token in zip(rows, tokens, strict=True):
            status, error = (
                await session.execute(
                    select(OutboxItem.status, OutboxItem.error).where(OutboxItem.id == row_id)
                )
            ).one()
            assert (status, error) == ("failed", "undecryptable")
            kept = await retention.raw_tokens(session, "outbox", "id", "payload", row_id - 1, 1)
            assert kept == [(row_id, token)]  # never wiped
    notices = [text for text in coordinator.replies() if "cannot be decrypted" in text]
    assert len(notices) == 1  # told once
    assert h.runtime.metrics.undecryptable.labels("outbox")._value.get() == counted + 2


async def test_an_undecryptable_update_is_kept_and_the_rest_goes_on(h: Harness) -> None:
    sam = h.user()
    await h.register(sam)
    async with h.runtime.sessions() as session, session.begin():
        await inbox.store(
            session,
            [{"update_id": 99, "message": {"message_id": 1, "chat": {"id": sam.chat_id}}}],
            h.clock.now(),
            chat_and_text,
        )
    token = await _seal_with_another_key(h, "inbox", "update_id", "payload", 99)
    sam.send("/help")
    await h.pump()
    assert "Check-in" in sam.last_reply()
    async with h.runtime.sessions() as session:
        processed, error = (
            await session.execute(
                select(InboxUpdate.processed_at, InboxUpdate.error).where(
                    InboxUpdate.update_id == 99
                )
            )
        ).one()
        kept = await retention.raw_tokens(session, "inbox", "update_id", "payload", 98, 1)
    assert processed is not None and error == "undecryptable"
    assert kept == [(99, token)]


async def test_classifications_and_file_ids_are_not_readable_on_disk(
    h: Harness, tmp_path: Path
) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    sam = h.user()
    await h.register(sam, officer_telegram_id=officer.chat_id)
    sam.send("ik wil dood")
    sam.send_voice()
    sam.send("/request")
    await h.pump()
    sam.press("Housing")
    await h.pump()
    sam.send("mijn huisbaas")
    await h.pump()
    sam.press("Send")
    sam.send("/checkin")
    await h.pump()
    sam.press("Bad")
    await h.pump()
    sam.press("Problem")
    await h.pump()
    await h.runtime.engine.dispose()
    database = tmp_path / "oprit.db"
    import sqlite3

    with sqlite3.connect(database) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(messages)")}
        assert "flagged" not in columns  # the alert row says it; no plain mark
        values = [
            *connection.execute("SELECT categories FROM alerts"),
            *connection.execute("SELECT mood, answers, voice_file_id FROM checkins"),
            *connection.execute("SELECT domain, media_file_ids FROM help_requests"),
            *connection.execute("SELECT media_file_id FROM messages"),
        ]
    flat = repr(values)
    for plain in ("self_harm", "housing", '"bad"', "'bad'", "problem", "USER-voice"):
        assert plain not in flat, plain
