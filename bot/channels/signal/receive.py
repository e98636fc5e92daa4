"""The daemon's event stream into the inbox: every incoming message is stored before its
read receipt goes back, and receipts for our messages are recorded.

One process reads the stream (an advisory lock, as for Telegram's polling); a second
process waits. When the daemon is away the reader tries again with backoff; when the
database is away, the event in hand is kept and stored once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.signal import parse
from bot.channels.signal.rpc import AnswerLost, DaemonUnreachable, RpcError, SignalDaemon
from bot.crypto import Keyring
from bot.engine import inbox
from bot.engine.inbox import InboxProcessor, retry_delay
from bot.runtime import Runtime
from db import locks
from db import signal as signal_db
from db.errors import is_outage
from db.models import SignalContact

log = logging.getLogger(__name__)

BATCH = 100
# After the first event, let the rest of a burst arrive: one transaction stores them all,
# which keeps the time between reading an event and storing it short.
GATHER_SECONDS = 0.02


@dataclass(frozen=True)
class Stored:
    """An incoming message now in the inbox: whom to acknowledge, and which message."""

    recipient: str
    sent_ms: int


def chat_and_text(payload: dict[str, Any]) -> tuple[int | None, str | None]:
    """The inbox's reader of a stored Signal payload: its chat and text."""
    signal = payload.get("signal") if isinstance(payload.get("signal"), dict) else {}
    assert isinstance(signal, dict)
    chat = signal.get("chat")
    event = parse.to_event(chat, signal.get("envelope") or {}) if isinstance(chat, int) else None
    return (chat if isinstance(chat, int) else None), (event.text if event else None)


def _lookups(keyring: Keyring, number: str | None, uuid: str | None) -> list[str]:
    found = []
    if uuid:
        found += keyring.lookup_hashes(f"u:{uuid}")
    if number:
        found += keyring.lookup_hashes(f"n:{number}")
    return found


async def contact_for(
    session: AsyncSession, keyring: Keyring, number: str | None, uuid: str | None, now: Any
) -> SignalContact:
    """The contact of a sender, made on their first message; a number or Signal id seen
    for the first time is added to it."""
    contact = await signal_db.contact_by_lookup(session, _lookups(keyring, number, uuid))
    if contact is None:
        key = f"u:{uuid}" if uuid else f"n:{number}"
        return await signal_db.add_contact(
            session, keyring.lookup_hashes(key)[0], number, uuid, now
        )
    if number and not contact.number:
        contact.number = number
    if uuid and not contact.uuid:
        contact.uuid = uuid
    return contact


async def store_events(runtime: Runtime, batch: list[dict[str, Any]]) -> tuple[list[Stored], bool]:
    """Store events of the stream in one transaction: a person's message goes into the
    inbox (once, however often it comes), a receipt onto the outbox rows it names.
    Returns the messages to acknowledge and whether any looks urgent. Raises when the
    database is away (then nothing of the batch is stored)."""
    now = runtime.clock.now()
    stored: list[Stored] = []
    payloads: dict[int, dict[str, Any]] = {}
    async with runtime.sessions() as session, session.begin():
        for params in batch:
            envelope = params.get("envelope")
            if not isinstance(envelope, dict):
                continue
            number, uuid = parse.sender(envelope)
            if (number is None and uuid is None) or number == runtime.settings.signal_account:
                continue  # nobody, or the bot's own number (a linked phone): never answered
            receipt = parse.receipt(envelope)
            if receipt is not None:
                lookups = _lookups(runtime.keyring, number, uuid)
                contact = await signal_db.contact_by_lookup(session, lookups)
                if contact is not None:
                    kind, stamps = receipt
                    chat = parse.chat_of(contact.id)
                    await signal_db.record_receipts(session, chat, stamps, kind, now)
                continue
            if not parse.is_from_person(envelope):
                continue
            sent_ms = parse.timestamp(envelope) or int(now.timestamp() * 1000)
            contact = await contact_for(session, runtime.keyring, number, uuid, now)
            update_id = parse.update_id(contact.id, sent_ms)
            payloads[update_id] = {  # a redelivery within the batch is one row
                "update_id": update_id,
                "signal": {
                    "chat": parse.chat_of(contact.id),
                    "envelope": parse.slim(envelope, sent_ms),
                },
            }
            stored.append(Stored(number or uuid or "", sent_ms))
        new, urgent = await inbox.store(session, list(payloads.values()), now, chat_and_text)
    runtime.metrics.updates_received.inc(new)
    return stored, urgent


async def acknowledge(daemon: SignalDaemon, stored: Stored) -> None:
    """The read receipt: tells the person's phone that Oprit has the message (stored)."""
    try:
        await daemon.call(
            "sendReceipt",
            {"recipient": stored.recipient, "targetTimestamp": [stored.sent_ms], "type": "read"},
        )
    except (DaemonUnreachable, AnswerLost, RpcError) as error:
        log.info("read receipt not sent", extra={"error": type(error).__name__})


async def _store_until_done(
    runtime: Runtime, batch: list[dict[str, Any]], stop: asyncio.Event
) -> tuple[list[Stored], bool]:
    """Store a batch, waiting out a database outage (the daemon will not send it again).
    When the batch fails for another reason, its events are stored one by one, so one
    event we cannot read does not take the others with it."""
    attempt = 0
    while True:
        try:
            return await store_events(runtime, batch)
        except Exception as error:
            if not is_outage(error):
                if len(batch) > 1:
                    return await _one_by_one(runtime, batch, stop)
                log.exception("a Signal event could not be stored")
                return [], False
            attempt += 1
            if stop.is_set():
                log.error("stopping with Signal events unstored", extra={"count": len(batch)})
                return [], False
            log.warning("database away; Signal events wait", extra={"attempt": attempt})
            await _pause(stop, retry_delay(attempt))


async def _one_by_one(
    runtime: Runtime, batch: list[dict[str, Any]], stop: asyncio.Event
) -> tuple[list[Stored], bool]:
    stored: list[Stored] = []
    urgent = False
    for params in batch:
        some, hurry = await _store_until_done(runtime, [params], stop)
        stored += some
        urgent = urgent or hurry
    return stored, urgent


async def _read(daemon: SignalDaemon, queue: asyncio.Queue[dict[str, Any] | BaseException]) -> None:
    """Take events off the stream as fast as they come (they are stored in batches)."""
    try:
        async for params in daemon.events():
            queue.put_nowait(params)
        queue.put_nowait(DaemonUnreachable("the event stream ended"))
    except (DaemonUnreachable, AnswerLost, RpcError) as error:
        queue.put_nowait(error)


async def _next_batch(
    queue: asyncio.Queue[dict[str, Any] | BaseException],
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """The events that came in a burst (after the first, whatever arrived within
    GATHER_SECONDS), and the stream's end if it came too."""
    batch: list[dict[str, Any]] = []
    item = await queue.get()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GATHER_SECONDS
    while True:
        if isinstance(item, BaseException):
            return batch, item
        batch.append(item)
        if len(batch) >= BATCH:
            return batch, None
        try:
            item = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            return batch, None


async def listen(
    runtime: Runtime,
    daemon: SignalDaemon,
    processor: InboxProcessor,
    stop: asyncio.Event,
    connected: asyncio.Event | None = None,
) -> None:
    """Read the event stream until `stop` is set."""
    lock = locks.AdvisoryLock(runtime.engine, locks.SIGNAL)
    while not stop.is_set() and not await lock.try_acquire():
        log.info("another process reads the Signal events; waiting for its lock")
        await _pause(stop, 5.0)
    failures = 0
    try:
        while not stop.is_set():
            try:
                await daemon.detect()
            except (DaemonUnreachable, AnswerLost, RpcError) as error:
                failures += 1
                log.warning("Signal daemon not reachable", extra={"error": type(error).__name__})
                await _pause(stop, retry_delay(failures, ceiling=60.0))
                continue
            if connected is not None:
                connected.set()
            queue: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()
            reader = asyncio.create_task(_read(daemon, queue), name="signal-events")
            try:
                while not stop.is_set():
                    batch, ended = await _next_batch(queue)
                    if batch:
                        failures = 0
                        stored, urgent = await _store_until_done(runtime, batch, stop)
                        if stored:
                            processor.wake(urgent=urgent)
                        for message in stored:
                            await acknowledge(daemon, message)
                    if ended is not None:
                        failures += 1
                        log.warning(
                            "Signal daemon not reachable", extra={"error": type(ended).__name__}
                        )
                        await _pause(stop, retry_delay(failures, ceiling=60.0))
                        break
            finally:
                reader.cancel()
    finally:
        await lock.release()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
