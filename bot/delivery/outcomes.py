"""What a send's outcome means beyond its outbox row: a delivered message is kept in the
conversation and a relayed one confirmed to the staff member ("→ Sam: delivered"); a block
marks the participant unreachable and alerts the officer, or (for staff) waits and tells
the coordinators once; a relay that failed is reported to whoever wrote it."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from bot.conversation import outbox
from bot.conversation.events import Address
from bot.conversation.replies import Reply
from bot.delivery.results import (
    FLOOD_CONTROL,
    Blocked,
    Delivered,
    Failed,
    Outcome,
    RetryLater,
    ThreadGone,
    Unknown,
)
from bot.i18n import use_language
from bot.runtime import Tx
from bot.services import alerts, relay, staff_alerts
from db import outbox as outbox_db
from db import people, staff_queries, topics
from db.enums import AlertKind, Channel, Direction, OutboxStatus, ParticipantStatus
from db.models import Message, Participant
from db.outbox import ClaimedRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
STAFF_RETRY = timedelta(minutes=10)
TOPIC_BUSY = "topic"  # the participant's thread is being made by another worker


def backoff(attempts: int) -> float:
    """Seconds to wait after the n-th failed attempt: 1, 2, 4 … 300, with jitter."""
    base = min(300.0, 2.0 ** max(0, attempts - 1))
    return base * (0.75 + random.random() / 2)  # noqa: S311


async def record(tx: Tx, item: ClaimedRow, outcome: Outcome) -> None:
    """Record one attempt's outcome in the transaction of `tx`."""
    session, now = tx.session, tx.now
    match outcome:
        case Delivered(message_id):
            await _delivered(tx, item, message_id)
        case RetryLater(seconds, reason):
            if item.attempts >= MAX_ATTEMPTS and reason not in (FLOOD_CONTROL, TOPIC_BUSY):
                await outbox_db.finish(session, item.id, status=OutboxStatus.FAILED, error=reason)
                await relay_failed(tx, item, "failed")
                return
            wait = seconds if seconds > 0 else backoff(item.attempts)
            until = now + timedelta(seconds=wait)
            await outbox_db.finish(
                session,
                item.id,
                status=OutboxStatus.PENDING,
                due_at=until,
                error=reason,
                attempt_started_at=None,
            )
            if outcome.flood_control:
                await outbox_db.postpone_chat(session, item.chat_id, until)
        case Blocked(reason):
            await _blocked(tx, item, reason)
        case ThreadGone():
            await topics.forget_topic(session, item.participant_id)
            await outbox_db.finish(
                session, item.id, status=OutboxStatus.PENDING, message_thread_id=None, due_at=now
            )
        case Unknown(reason):
            log.warning("send outcome unknown", extra={"outbox_id": item.id})
            await outbox_db.finish(
                session, item.id, status=OutboxStatus.UNKNOWN, error=f"no answer: {reason}"[:200]
            )
        case Failed(reason):
            log.warning("send refused", extra={"outbox_id": item.id, "error": reason})
            await outbox_db.finish(session, item.id, status=OutboxStatus.FAILED, error=reason)
            await relay_failed(tx, item, "failed")


async def _delivered(tx: Tx, item: ClaimedRow, message_id: int | None) -> None:
    """Only messages about a participant are kept after sending (linked to them, so
    erasure reaches them); staff views about several people (lists) lose their text once
    delivered."""
    payload = item.payload or {}
    keep = item.participant_id is not None
    await outbox_db.finish(
        tx.session,
        item.id,
        status=OutboxStatus.SENT,
        sent_at=tx.now,
        telegram_message_id=message_id,
        message_thread_id=item.message_thread_id,
        error=None,
        **({} if keep else {"payload": {}}),
    )
    if item.kind == "relay":
        await _confirm_relay(tx, item)
    if not keep or item.action not in outbox.MESSAGE_ACTIONS:
        return
    tx.session.add(
        Message(
            participant_id=item.participant_id,
            staff_id=item.staff_id,
            direction=Direction.OUT,
            kind="document" if payload.get("attachment") else "text",
            chat_id=item.chat_id,
            telegram_message_id=message_id,
            text=payload.get("said", payload.get("text")),
            at=tx.now,
        )
    )


async def _tell_writer(
    tx: Tx, item: ClaimedRow, notice: Callable[[Participant | None], Reply | None]
) -> None:
    """Tell the staff member who wrote a relayed message how it went, in their language,
    in the chat (and topic) they wrote it in."""
    session = tx.session
    staff = await staff_queries.active_by_id(session, item.staff_id) if item.staff_id else None
    if staff is None:
        return
    participant = (
        await session.get(Participant, item.participant_id) if item.participant_id else None
    )
    with use_language(staff.language):
        reply = notice(participant)
    if reply is None:
        return
    confirm = (item.payload or {}).get("confirm") or {}
    chat, thread = confirm.get("chat_id"), confirm.get("thread_id")
    written_in = Address(
        Channel.TELEGRAM,
        chat if isinstance(chat, int) else staff.telegram_id,
        thread if isinstance(thread, int) else None,
    )
    outbox.to_address(
        session,
        written_in,
        [reply],
        now=tx.now,
        participant_id=item.participant_id,
        staff_id=staff.id,
    )


async def _confirm_relay(tx: Tx, item: ClaimedRow) -> None:
    """ "→ Sam: delivered", under the staff member's message."""
    confirm = (item.payload or {}).get("confirm")
    if not isinstance(confirm, dict):
        return
    await _tell_writer(
        tx,
        item,
        lambda participant: (
            relay.delivered_reply(participant, confirm.get("message_id")) if participant else None
        ),
    )


async def relay_failed(tx: Tx, item: ClaimedRow, reason: str) -> None:
    """Tell the staff member whose message could not be delivered."""
    if item.kind != "relay":
        return
    await _tell_writer(
        tx,
        item,
        lambda participant: relay.failed_reply(participant.name if participant else "?", reason),
    )


async def _blocked(tx: Tx, item: ClaimedRow, reason: str) -> None:
    session, now = tx.session, tx.now
    staff = (
        await people.staff_by_telegram_id(session, item.chat_id)
        if item.channel == Channel.TELEGRAM
        else None
    )
    if staff is not None:
        await outbox_db.finish(
            session,
            item.id,
            status=OutboxStatus.PENDING,
            due_at=now + STAFF_RETRY,
            error="staff unreachable",
        )
        if staff.reachable is not False or not staff.unreachable_notice_sent:
            staff.reachable = False
            await _tell_coordinators_once(tx, staff.id)
        return
    await outbox_db.finish(session, item.id, status=OutboxStatus.BLOCKED, error=reason[:200])
    await relay_failed(tx, item, "blocked")
    if item.participant_id is None:
        return
    participant = await people.participant_by_id(session, item.participant_id)
    if participant is None or outbox.address_of(participant) != Address(item.channel, item.chat_id):
        return  # a message about the participant, not to them
    if participant.status != ParticipantStatus.UNREACHABLE:
        participant.status = ParticipantStatus.UNREACHABLE
        await alerts.raise_alert(tx, participant, kind=AlertKind.UNREACHABLE, severity="medium")


async def _tell_coordinators_once(tx: Tx, staff_id: int) -> None:
    """Coordinators hear once that a staff member never opened the bot."""
    session = tx.session
    staff = await staff_queries.active_by_id(session, staff_id)
    if staff is None or staff.unreachable_notice_sent:
        return
    staff.unreachable_notice_sent = True
    for coordinator in await staff_queries.coordinators(session):
        if coordinator.id == staff.id or coordinator.reachable is False:
            continue
        with use_language(coordinator.language):
            notice = staff_alerts.unreachable_staff_notice(staff)
        outbox.to_staff(
            session,
            coordinator,
            [notice],
            now=tx.now,
            kind="alert",
            priority=outbox.PRIORITY_ALERT,
        )
