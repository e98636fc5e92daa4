"""Queueing what Oprit says: every outgoing message is an outbox row before it is sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.replies import Reply
from db import outbox as outbox_db

# Lower goes first. A crisis answer beats everything; broadcasts wait for the rest.
PRIORITY_SAFETY = 0
PRIORITY_CRITICAL_ALERT = 5
PRIORITY_HIGH_ALERT = 10
PRIORITY_REPLY = 20
PRIORITY_ALERT = 30
PRIORITY_REMINDER = 40
PRIORITY_PROMPT = 45
PRIORITY_BROADCAST = 60

# When a worker dies in the middle of a send, nobody knows whether Telegram got it. Every
# kind is sent again (a second "thanks" beats a missed alert or reminder), except
# broadcasts, where a second copy to hundreds of people is worse than a rare gap.
NO_RESEND_AFTER_CRASH = ("broadcast",)
# Bot API methods that put a message into a chat (the others edit, rename or remove).
MESSAGE_METHODS = ("sendMessage", "sendDocument", "copyMessage")
# Bot messages a staff member can answer with a Telegram reply to reach the participant
# they are about; a reply to any other bot message (lists, case views, prompts) relays
# nothing.
RELAY_ANCHORS = ("alert", "mirror")


def enqueue(
    session: AsyncSession,
    chat_id: int,
    replies: list[Reply],
    *,
    now: datetime,
    kind: str = "reply",
    priority: int = PRIORITY_REPLY,
    participant_id: int | None = None,
    staff_id: int | None = None,
    alert_id: int | None = None,
    message_thread_id: int | None = None,
) -> None:
    """Queue replies for one chat, in order, in the caller's transaction."""
    for reply in (part for whole in replies for part in whole.parts()):
        outbox_db.add(
            session,
            kind=kind,
            priority=priority,
            method="sendDocument" if reply.attachment else "sendMessage",
            chat_id=chat_id,
            message_thread_id=message_thread_id,
            payload=reply.payload(),
            participant_id=reply.about or participant_id,
            staff_id=staff_id,
            alert_id=alert_id,
            due_at=now,
        )


def enqueue_call(
    session: AsyncSession,
    method: str,
    chat_id: int,
    payload: dict[str, object],
    *,
    now: datetime,
    participant_id: int | None = None,
) -> None:
    """Queue a Bot API call that is not a message (renaming or deleting a forum topic);
    `participant_id` when it names the participant (a topic title), so erasure reaches it."""
    outbox_db.add(
        session,
        kind="call",
        priority=PRIORITY_PROMPT,
        method=method,
        chat_id=chat_id,
        payload=payload,
        participant_id=participant_id,
        due_at=now,
    )
