"""Long polling that acknowledges an update only after it is stored.

python-telegram-bot's Updater asks for the next batch (which confirms the previous one
to Telegram) before the handlers have run, so a crash would lose the batch in flight.
Here the next `getUpdates` offset is sent only after the batch is committed to the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import warnings
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, TimedOut
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.parse import chat_and_text
from bot.engine import inbox
from bot.engine.inbox import InboxProcessor
from bot.runtime import Runtime
from db import locks
from db.errors import is_outage

log = logging.getLogger(__name__)

# Raw getUpdates on purpose: a batch is stored as Telegram sent it, even an update this
# library version cannot parse, so nothing is lost and no bad update blocks the queue.
warnings.filterwarnings("ignore", message="Please use 'Bot.getUpdates'", category=PTBUserWarning)

LONG_POLL_SECONDS = 25
# After a batch, let the next updates gather for a moment before asking again: under a
# burst, batches of one or two updates cost a request and a transaction each.
GATHER_SECONDS = 0.05


async def fetch_once(
    runtime: Runtime,
    bot: Bot,
    offset: int | None,
    wait_seconds: int,
    processor: InboxProcessor | None = None,
) -> int | None:
    """One getUpdates round: store the batch, return the offset that acknowledges it."""
    batch: Any = await bot.do_api_request(
        "getUpdates",
        api_kwargs={"offset": offset, "timeout": wait_seconds, "allowed_updates": Update.ALL_TYPES},
        read_timeout=wait_seconds + 10,
    )
    updates = [item for item in batch or [] if isinstance(item, dict) and "update_id" in item]
    if not updates:
        return offset
    async with runtime.sessions() as session, session.begin():
        new, urgent = await inbox.store(session, updates, runtime.clock.now(), chat_and_text)
    runtime.metrics.updates_received.inc(new)
    if urgent and processor is not None:
        processor.wake(urgent=True)
    return max(int(item["update_id"]) for item in updates) + 1


async def poll(
    runtime: Runtime,
    bot: Bot,
    processor: InboxProcessor,
    stop: asyncio.Event,
    first_round: asyncio.Event | None = None,
) -> None:
    """Fetch, store, then acknowledge, until `stop` is set; `first_round` is set once the
    backlog Telegram kept while we were down has been stored."""
    lock = locks.AdvisoryLock(runtime.engine, locks.POLLING)
    while not stop.is_set() and not await lock.try_acquire():
        log.info("another process is polling; waiting for its lock")
        await _pause(stop, 5.0)
    try:
        await _poll_loop(runtime, bot, processor, stop, first_round)
    finally:
        await lock.release()


async def _poll_loop(
    runtime: Runtime,
    bot: Bot,
    processor: InboxProcessor,
    stop: asyncio.Event,
    first_round: asyncio.Event | None,
) -> None:
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        try:
            new_offset = await fetch_once(runtime, bot, offset, LONG_POLL_SECONDS, processor)
        except InvalidToken:
            raise
        except Conflict:
            log.warning("another process is polling or a webhook is set; waiting")
            await _pause(stop, 5.0)
            continue
        except (NetworkError, TimedOut) as error:
            failures += 1
            delay = min(30.0, 0.5 * 2**failures) * (0.5 + random.random())  # noqa: S311
            log.warning("getUpdates failed", extra={"error": type(error).__name__})
            await _pause(stop, delay)
            continue
        except Exception as error:
            if not is_outage(error):
                raise
            # The batch was not stored, so its offset is not confirmed: Telegram keeps it
            # and hands it out again once the database is back.
            failures += 1
            delay = min(30.0, 0.5 * 2**failures) * (0.5 + random.random())  # noqa: S311
            log.warning("database away; polling waits", extra={"error": type(error).__name__})
            await _pause(stop, delay)
            continue
        failures = 0
        runtime.api_ok_at = runtime.clock.now()
        if first_round is not None:
            first_round.set()
        if new_offset != offset:
            offset = new_offset
            processor.wake()
            await _pause(stop, GATHER_SECONDS)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
