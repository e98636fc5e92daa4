"""How Telegram's 30 messages a second are shared: urgent rows first, a running broadcast
at its configured rate, routine replies the rest (issue 22's alert scenario)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.conversation import outbox
from bot.conversation.events import Address
from bot.conversation.replies import Reply
from bot.localtelegram.spec import Call
from db.enums import Channel
from tests.clock import ManualClock
from tests.harness import Harness, running_harness

# On PostgreSQL a starting sender takes half of Telegram's 30 (another worker may be
# starting too): 8 a second fits in that half beside the urgent reserve.
RATE = 8
RECIPIENTS = 20
REPLIES = 100  # seconds of sending, more than the broadcast needs
FIRST_FREE_CHAT = 8_100_001


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock, broadcast_rate=RATE) as running:
        yield running


async def _queue(h: Harness, text: str, chats: range, priority: int) -> None:
    async with h.runtime.sessions() as session, session.begin():
        for chat in chats:
            outbox.to_address(
                session,
                Address(Channel.TELEGRAM, chat),
                [Reply(text)],
                now=h.clock.now(),
                priority=priority,
            )


def _sent(calls: list[Call], word: str) -> list[float]:
    return sorted(c.at for c in calls if c.ok and word in str(c.params.get("text")))


async def test_a_broadcast_keeps_its_rate_behind_alerts_and_ahead_of_replies(h: Harness) -> None:
    for n in range(RECIPIENTS):
        await h.register(h.user(first_name=f"P{n}"), name=f"Deelnemer {n}")
    h.api.every_chat_open = True
    replies = range(FIRST_FREE_CHAT, FIRST_FREE_CHAT + REPLIES)
    alerts = range(FIRST_FREE_CHAT + REPLIES, FIRST_FREE_CHAT + REPLIES + 3)
    await _queue(h, "routine answer", replies, outbox.PRIORITY_REPLY)
    await _queue(h, "crisis alert", alerts, outbox.PRIORITY_CRITICAL_ALERT)
    await h.broadcast("Het loket is morgen dicht.")

    stop = asyncio.Event()
    running = asyncio.create_task(h.sender.run(stop))
    await h.api.wait_for_calls_async(
        "sendMessage", REPLIES, timeout=30, predicate=lambda c: "routine" in str(c.params)
    )
    stop.set()
    await running

    calls = h.api.calls("sendMessage")
    alerts_at, broadcast_at = _sent(calls, "crisis"), _sent(calls, "loket")
    replies_at = _sent(calls, "routine")
    assert (len(alerts_at), len(broadcast_at), len(replies_at)) == (3, RECIPIENTS, REPLIES)
    first = min(alerts_at + broadcast_at + replies_at)
    assert max(alerts_at) - first < 0.3  # urgent rows go before anything else
    # The broadcast ran at its rate while replies waited: 20 at 8 a second takes two
    # windows, while 100 replies at under 30 a second take four or more. Relative, so a
    # loaded machine slows both alike; before, the broadcast went after every reply.
    broadcast_took, replies_took = max(broadcast_at) - first, max(replies_at) - first
    assert broadcast_took < RECIPIENTS / RATE + 3.0
    assert broadcast_took < 0.75 * replies_took
    # The replies were not stopped either: they got the rest of the 30 meanwhile.
    assert sum(1 for at in replies_at if at < max(broadcast_at)) >= 5
