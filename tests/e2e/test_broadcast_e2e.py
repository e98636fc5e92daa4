"""End to end: a broadcast to 300 participants at the rate limit, with 429s and a block."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.localtelegram import LocalTelegram, max_calls_in_window
from tests.conftest import TEST_KEY
from tests.e2e.botprocess import bot_env, oprit, oprit_json, running_bot
from tests.e2e.seed import seed_participants

RATE = 25


BROADCAST_TEXTS = {  # every message says it comes from the municipality
    "📢 Bericht van de gemeente:\nMorgen is het loket dicht.",
    "📢 Message from the municipality:\nThe office is closed tomorrow.",
}


def test_broadcast_to_300_at_the_limit(api: LocalTelegram, tmp_path: Path) -> None:
    people = seed_participants(tmp_path, 300, languages=("nl", "en"), api=api)
    blocked = people[17]
    env = bot_env(
        api.base_url, tmp_path, OPRIT_ENCRYPTION_KEY=TEST_KEY, OPRIT_BROADCAST_RATE=str(RATE)
    )
    api.block_chat(blocked, notify=False)
    api.fail_next("sendMessage", status=429, retry_after=1, count=4)
    queued = oprit_json(
        env,
        tmp_path,
        "broadcast",
        "send",
        "--text",
        "Morgen is het loket dicht.",
        "--text-en",
        "The office is closed tomorrow.",
    )
    assert queued["recipients"] == 300
    with running_bot(env, tmp_path):
        deadline = time.monotonic() + 60
        status: dict[str, int] = {}
        while time.monotonic() < deadline:
            result = oprit(env, tmp_path, "broadcast", "status", str(queued["id"]), "--json")
            status = json.loads(result.stdout)
            if status["pending"] == 0:
                break
            time.sleep(1)
    assert status == {
        "id": queued["id"],
        "recipients": 300,
        "sent": 299,
        "failed": 0,
        "blocked": 1,
        "pending": 0,
    }
    # Only the broadcast's own calls: on a Sunday evening the weekly sleep question goes
    # to the same 300 people (seen in CI), and it is not a second copy.
    attempts = [
        call
        for call in api.calls("sendMessage")
        if call.chat_id in set(people) and call.params.get("text") in BROADCAST_TEXTS
    ]
    delivered: dict[int, int] = {}
    for call in attempts:
        if call.ok:
            delivered[int(call.chat_id or 0)] = delivered.get(int(call.chat_id or 0), 0) + 1
    assert set(delivered) == set(people) - {blocked}
    assert set(delivered.values()) == {1}  # exactly one copy each
    texts = {call.params["text"] for call in attempts if call.ok}
    assert texts == BROADCAST_TEXTS  # both languages went out
    assert max_calls_in_window(attempts, 1.0) <= RATE  # retries included, no burst
    everything = [call for call in api.calls("sendMessage") if call.chat_id in set(people)]
    assert len([c for c in everything if c.status == 429]) == 4
