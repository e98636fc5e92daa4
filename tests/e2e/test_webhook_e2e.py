"""End to end: two `oprit webhook` workers on one PostgreSQL database take 1,000 updates
round-robin; every update is stored once, every reply and alert is sent once."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bot.localtelegram import LocalTelegram
from tests.conftest import TEST_KEY
from tests.e2e.botprocess import assert_log_is_clean, bot_env, free_port, oprit_json
from tests.e2e.seed import seed_participants

SECRET = "test-webhook-secret-0123456789"
PEOPLE, EACH = 50, 20
OFFICER = 6_500_001


def _post(port: int, body: dict[str, Any], secret: str | None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram/hook",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            **({"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


def _metric(text: str, name: str, labels: str = "") -> float:
    for line in text.splitlines():
        if line.startswith(name + (f"{{{labels}}}" if labels else "")) and not line.startswith("#"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_two_workers_share_1000_updates(
    api: LocalTelegram, pg_database: str, tmp_path: Path
) -> None:
    database = pg_database
    ports = [free_port(), free_port()]
    env = bot_env(
        api.base_url,
        tmp_path,
        OPRIT_DATABASE_URL=database,
        OPRIT_ENCRYPTION_KEY=TEST_KEY,
        OPRIT_WEBHOOK_SECRET=SECRET,
        OPRIT_WEBHOOK_URL=f"http://127.0.0.1:{ports[0]}/telegram/hook",
    )
    oprit_json(
        env,
        tmp_path,
        "staff",
        "add",
        "--telegram-id",
        str(OFFICER),
        "--role",
        "officer",
        "--name",
        "Officer Test",
    )
    api.open_chat(OFFICER)
    people = seed_participants(tmp_path, PEOPLE, url=database, officer_telegram_id=OFFICER, api=api)
    workers = []
    for number, port in enumerate(ports):
        log = (tmp_path / f"worker{number}.log").open("wb")
        worker_env = {**env, "OPRIT_WEBHOOK_LISTEN": f"127.0.0.1:{port}"}
        workers.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "webhook"],
                    env=worker_env,
                    cwd=tmp_path,
                    stdout=log,
                    stderr=log,
                ),
                log,
            )
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(_port_open(port) for port in ports):
            time.sleep(0.2)
        for number, (process, _log) in enumerate(workers):
            log_text = (tmp_path / f"worker{number}.log").read_text(errors="replace")
            assert process.poll() is None, f"worker {number} died at start:\n{log_text[-3000:]}"
        assert all(_get(port, "/healthz")[0] == 200 for port in ports)
        assert _get(ports[0], "/readyz")[0] == 200
        update_id, flagged = 1, set()
        for number in range(EACH):
            for index, telegram_id in enumerate(people):
                text = f"bericht {number}"
                if number == 5 and index % 5 == 0:
                    text, _ = "ik wil dood", flagged.add(telegram_id)
                update = {
                    "update_id": update_id,
                    "message": {
                        "message_id": number + 1,
                        "date": int(time.time()),
                        "text": text,
                        "chat": {"id": telegram_id, "type": "private", "first_name": "Sam"},
                        "from": {"id": telegram_id, "is_bot": False, "first_name": "Sam"},
                    },
                }
                port = ports[update_id % 2]
                assert _post(port, update, SECRET) == 200
                if update_id % 97 == 0:  # Telegram retries now and then: same update again
                    assert _post(ports[(update_id + 1) % 2], update, SECRET) == 200
                if update_id % 50 == 0:
                    assert _post(port, update, None) == 403
                    assert _post(port, update, "wrong-secret-value-xxxx") == 403
                update_id += 1
        total = update_id - 1
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            acks = [
                c
                for c in api.calls("sendMessage")
                if c.ok and c.chat_id in set(people) and "bewaard" in c.params["text"]
            ]
            alerts = [c for c in api.calls("sendMessage") if c.ok and c.chat_id == OFFICER]
            # every person answered is not every update handled: on a loaded machine the
            # workers may still be working through the rest, so wait for the database too
            if (
                len(acks) >= PEOPLE - len(flagged)
                and len(alerts) >= len(flagged)
                and _all_handled(database, total)
            ):
                break
            time.sleep(0.5)
        time.sleep(3)  # anything sent twice would show up now
        metrics_text = [_get(port, "/metrics")[1] for port in ports]
    finally:
        for process, log in workers:
            process.terminate()
            process.wait(timeout=20)
            log.close()
    for number in range(len(ports)):
        assert_log_is_clean((tmp_path / f"worker{number}.log").read_text(errors="replace"))
    counts = _database_counts(database)
    assert counts["inbound"] == total
    assert counts["distinct_inbound"] == total
    assert counts["unprocessed"] == 0
    per_chat: dict[int, int] = {}
    for call in api.calls("sendMessage"):
        if call.ok and call.chat_id in set(people) and "bewaard" in call.params["text"]:
            per_chat[int(call.chat_id or 0)] = per_chat.get(int(call.chat_id or 0), 0) + 1
    assert set(per_chat.values()) == {1}  # one acknowledgement each, never two
    safety = [c for c in api.calls("sendMessage") if c.ok and "113" in c.params["text"]]
    assert sorted(int(c.chat_id or 0) for c in safety) == sorted(flagged)
    alerts = [
        c
        for c in api.calls("sendMessage")
        if c.ok and c.chat_id == OFFICER and c.params["text"].startswith("🔴 KRITIEK")
    ]
    assert len(alerts) == len(flagged) == counts["alerts"]
    received = sum(_metric(text, "oprit_updates_received_total") for text in metrics_text)
    refused = sum(
        _metric(text, "oprit_webhook_refused_total", 'reason="secret"') for text in metrics_text
    )
    assert received == total
    assert refused == 2 * (total // 50)
    assert len(api.calls("setWebhook")) == 2
    assert not api.calls("deleteWebhook")


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _all_handled(url: str, total: int) -> bool:
    counts = _database_counts(url)
    return counts["inbound"] >= total and counts["unprocessed"] == 0


def _database_counts(url: str) -> dict[str, int]:
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> dict[str, int]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:

                async def one(sql: str) -> int:
                    return int((await connection.execute(text(sql))).scalar() or 0)

                return {
                    "inbound": await one("SELECT count(*) FROM messages WHERE direction='in'"),
                    "distinct_inbound": await one(
                        "SELECT count(DISTINCT dedupe_key) FROM messages WHERE direction='in'"
                    ),
                    "unprocessed": await one(
                        "SELECT count(*) FROM inbox WHERE processed_at IS NULL"
                    ),
                    "alerts": await one("SELECT count(*) FROM alerts"),
                }
        finally:
            await engine.dispose()

    return asyncio.run(run())
