"""End to end: `kill -9` in the middle of a burst of 200 messages loses nothing and
handles nothing twice."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from bot.localtelegram import Call, LocalTelegram
from tests.conftest import TEST_KEY
from tests.e2e.botprocess import bot_env, oprit_json, running_bot
from tests.e2e.conversation import TelegramUser
from tests.e2e.seed import seed_participants

PEOPLE, EACH = 20, 10
ACK = "je bericht is bewaard"


def _count(database: Path, query: str) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        return int(connection.execute(query).fetchone()[0])


def test_kill_9_mid_burst_loses_nothing(api: LocalTelegram, tmp_path: Path) -> None:
    people = seed_participants(tmp_path, PEOPLE)
    database = tmp_path / "data" / "oprit.db"
    env = bot_env(api.base_url, tmp_path, OPRIT_ENCRYPTION_KEY=TEST_KEY)
    users = [TelegramUser(api, telegram_id) for telegram_id in people]
    for number in range(EACH):
        for user in users:
            user.send(f"bericht {number} van {user.chat_id}")
    # While the first process runs, Telegram answers every send with 500: no answer gets
    # out before the crash, so the test knows exactly which answers must follow it.
    api.fail_next("sendMessage", status=500, count=100_000)
    inbound = "SELECT count(*) FROM messages WHERE direction = 'in'"

    with running_bot(env, tmp_path) as process:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if database.exists() and _count(database, inbound) >= 40:
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
    stored_at_kill = _count(database, inbound)
    assert 0 < stored_at_kill < PEOPLE * EACH, "the kill must land in the middle of the burst"

    api.clear_faults()
    with running_bot(env, tmp_path, log=tmp_path / "bot2.log"):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            acks = [c for c in api.calls("sendMessage") if c.ok and ACK in c.params["text"]]
            if _count(database, inbound) == PEOPLE * EACH and len(acks) >= PEOPLE:
                break
            time.sleep(0.2)
        time.sleep(2)  # anything sent twice would arrive now

    assert _count(database, inbound) == PEOPLE * EACH
    assert (
        _count(database, "SELECT count(DISTINCT dedupe_key) FROM messages WHERE direction = 'in'")
        == PEOPLE * EACH
    )
    assert _count(database, "SELECT count(*) FROM inbox WHERE processed_at IS NULL") == 0
    acks = [c for c in api.calls("sendMessage") if c.ok and ACK in c.params["text"]]
    per_person = {telegram_id: 0 for telegram_id in people}
    for call in acks:
        per_person[int(call.chat_id or 0)] += 1
    assert set(per_person.values()) == {1}  # one acknowledgement per burst, never two


def _is_broadcast(call: Call) -> bool:
    return str(call.params.get("text")).endswith("\nHet loket is dicht.")


def test_kill_9_mid_broadcast_never_sends_a_copy_twice(api: LocalTelegram, tmp_path: Path) -> None:
    """The production recovery path: rows the dead process claimed are sent again only if
    their request never started; the ones that may have arrived end as `unknown`."""
    recipients = 60
    people = seed_participants(tmp_path, recipients, api=api)
    database = tmp_path / "data" / "oprit.db"
    env = bot_env(api.base_url, tmp_path, OPRIT_ENCRYPTION_KEY=TEST_KEY)
    queued = oprit_json(env, tmp_path, "broadcast", "send", "--text", "Het loket is dicht.")
    assert queued["recipients"] == recipients
    api.delay(0.25)  # slow answers: sends are in flight when the process dies
    copies = "SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND status = 'sent'"
    with running_bot(env, tmp_path) as process:
        # Killed once some copies are recorded as sent and others are still in flight (a
        # kill before any answer came back proves nothing; the calls alone arrive at once).
        api.wait_for_calls("sendMessage", 12, timeout=30, predicate=_is_broadcast)
        deadline = time.monotonic() + 30
        while _count(database, copies) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
    in_flight = _count(
        database, "SELECT count(*) FROM outbox WHERE kind = 'broadcast' AND status = 'sending'"
    )
    assert 0 < _count(database, copies) < recipients
    api.delay(0)
    with running_bot(env, tmp_path, log=tmp_path / "bot2.log"):
        deadline = time.monotonic() + 60
        status: dict[str, int] = {}
        while time.monotonic() < deadline:
            status = oprit_json(env, tmp_path, "broadcast", "status", str(queued["id"]))
            if status["pending"] == 0:
                break
            time.sleep(0.5)
    delivered: dict[int, int] = {}
    for call in api.calls("sendMessage"):
        if call.ok and _is_broadcast(call):
            delivered[int(call.chat_id or 0)] = delivered.get(int(call.chat_id or 0), 0) + 1
    assert set(delivered.values()) == {1}, "nobody gets the broadcast twice"
    assert set(delivered) <= set(people)
    assert status["pending"] == 0
    assert status["sent"] + status["failed"] == recipients
    unknown = _count(database, "SELECT count(*) FROM outbox WHERE status = 'unknown'")
    assert unknown == status["failed"] <= in_flight
    assert len(delivered) >= status["sent"]  # the unknown ones may have arrived once
