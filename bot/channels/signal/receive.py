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


@dataclass(frozen=True)
class Stored:
    """An incoming message now in the inbox: whom to acknowledge, and which message."""

    recipient: str
    sent_ms: int
    urgent: bool


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


async def store_event(runtime: Runtime, params: dict[str, Any]) -> Stored | None:
    """Store one event of the stream: a person's message goes into the inbox (once, however
    often it comes), a receipt onto the outbox rows it names. Raises when the database is
    away."""
    envelope = params.get("envelope")
    if not isinstance(envelope, dict):
        return None
    number, uuid = parse.sender(envelope)
    if number is None and uuid is None:
        return None
    now = runtime.clock.now()
    receipt = parse.receipt(envelope)
    if receipt is not None:
        async with runtime.sessions() as session, session.begin():
            lookups = _lookups(runtime.keyring, number, uuid)
            contact = await signal_db.contact_by_lookup(session, lookups)
            if contact is not None:
                kind, stamps = receipt
                await signal_db.record_receipts(
                    session, parse.chat_of(contact.id), stamps, kind, now
                )
        return None
    if not parse.is_from_person(envelope):
        return None
    sent_ms = parse.timestamp(envelope) or int(now.timestamp() * 1000)
    async with runtime.sessions() as session, session.begin():
        contact = await contact_for(session, runtime.keyring, number, uuid, now)
        chat = parse.chat_of(contact.id)
        payload = {
            "update_id": parse.update_id(contact.id, sent_ms),
            "signal": {"chat": chat, "envelope": parse.slim(envelope, sent_ms)},
        }
        new, urgent = await inbox.store(session, [payload], now, chat_and_text)
    runtime.metrics.updates_received.inc(new)
    return Stored(number or uuid or "", sent_ms, urgent)


async def acknowledge(daemon: SignalDaemon, stored: Stored) -> None:
    """The read receipt: tells the person's phone that Oprit has the message (stored)."""
    try:
        await daemon.call(
            "sendReceipt",
            {"recipient": stored.recipient, "targetTimestamp": [stored.sent_ms], "type": "read"},
        )
    except (DaemonUnreachable, AnswerLost, RpcError) as error:
        log.info("read receipt not sent", extra={"error": type(error).__name__})


async def _store_until_done(runtime: Runtime, params: dict[str, Any], stop: asyncio.Event) -> Any:
    """Store an event, waiting out a database outage (the daemon will not send it again)."""
    attempt = 0
    while True:
        try:
            return await store_event(runtime, params)
        except Exception as error:
            if not is_outage(error):
                log.exception("a Signal event could not be stored")
                return None
            attempt += 1
            log.warning("database away; Signal event waits", extra={"attempt": attempt})
            await _pause(stop, retry_delay(attempt))
            if stop.is_set() and attempt > 3:
                return None


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
                if connected is not None:
                    connected.set()
                async for params in daemon.events():
                    failures = 0
                    stored = await _store_until_done(runtime, params, stop)
                    if stored is not None:
                        processor.wake(urgent=stored.urgent)
                        await acknowledge(daemon, stored)
            except (DaemonUnreachable, AnswerLost, RpcError) as error:
                failures += 1
                log.warning("Signal daemon not reachable", extra={"error": type(error).__name__})
                await _pause(stop, retry_delay(failures, ceiling=60.0))
                continue
            await _pause(stop, retry_delay(1))  # the stream ended: open it again
    finally:
        await lock.release()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
