"""Queueing what Oprit says: every outgoing message is an outbox row before it is sent.

Services address people, not chats: `to_participant`, `to_staff` and `to_officer_group`
find where a person is reached (their channel and chat there); `to_address` answers the
chat an event came from. What a row asks for is an `Action`; the channel the row goes out
on turns it into its own call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.events import Address
from bot.conversation.replies import Reply
from db import outbox as outbox_db
from db.enums import Action, Channel
from db.models import Participant, Staff

# Lower goes first. A crisis answer beats everything; broadcasts wait for the rest.
PRIORITY_SAFETY = 0
PRIORITY_CRITICAL_ALERT = 5
PRIORITY_HIGH_ALERT = 10
PRIORITY_REPLY = 20
PRIORITY_ALERT = 30
PRIORITY_REMINDER = 40
PRIORITY_PROMPT = 45
PRIORITY_BROADCAST = 60

# Copies of participant messages for staff (bot.services.mirror) and edits of them: the
# sender claims one per chat at a time, so an alert for that chat is never behind them.
STAFF_COPY = "mirror"
STAFF_COPY_EDIT = "mirror_edit"

# When a worker dies in the middle of a send, nobody knows whether the message arrived.
# Every kind is sent again (a second "thanks" beats a missed alert or reminder), except
# broadcasts, where a second copy to hundreds of people is worse than a rare gap.
NO_RESEND_AFTER_CRASH = ("broadcast",)
# Actions that put a message into a chat (the others edit, rename or remove).
MESSAGE_ACTIONS = (Action.MESSAGE, Action.COPY)
# Bot messages a staff member can answer with a reply to reach the participant they are
# about; a reply to any other bot message (lists, case views, prompts) relays nothing.
RELAY_ANCHORS = ("alert", "mirror")


class Reachable(Protocol):
    """What says where a participant is reached (a Participant, or a lighter row)."""

    @property
    def id(self) -> int:
        """The participant's id."""
        ...

    @property
    def channel(self) -> str:
        """The channel they use."""
        ...

    @property
    def telegram_id(self) -> int | None:
        """Their Telegram id (on Telegram)."""
        ...

    @property
    def address(self) -> str | None:
        """Their address on another channel (a number there too)."""
        ...


def address_of(participant: Reachable) -> Address | None:
    """Where a participant is reached; None before they have an account anywhere. Every
    channel names a person's chat with a number (Telegram: the user id)."""
    if participant.channel == Channel.TELEGRAM:
        chat = participant.telegram_id
    else:
        address = participant.address or ""
        chat = int(address) if address.isdigit() else None
    return None if chat is None else Address(participant.channel, chat)


def staff_address(staff: Staff) -> Address:
    """Staff are reached in their private Telegram chat."""
    return Address(Channel.TELEGRAM, staff.telegram_id)


def to_address(
    session: AsyncSession,
    address: Address,
    replies: list[Reply],
    *,
    now: datetime,
    kind: str = "reply",
    priority: int = PRIORITY_REPLY,
    participant_id: int | None = None,
    staff_id: int | None = None,
    alert_id: int | None = None,
    keyboard: list[list[str]] | None = None,
) -> None:
    """Queue replies for one chat, in order, in the caller's transaction. `keyboard` is
    the participant keyboard's rows (for replies that show it)."""
    for reply in (part for whole in replies for part in whole.parts()):
        call(
            session,
            Action.MESSAGE,
            address,
            reply.payload(keyboard),
            now=now,
            kind=kind,
            priority=priority,
            participant_id=reply.about or participant_id,
            staff_id=staff_id,
            alert_id=alert_id,
        )


def to_participant(
    session: AsyncSession,
    participant: Participant,
    replies: list[Reply],
    *,
    now: datetime,
    kind: str = "reply",
    priority: int = PRIORITY_REPLY,
    keyboard: list[list[str]] | None = None,
) -> bool:
    """Queue replies to a participant; False when they cannot be reached anywhere."""
    address = address_of(participant)
    if address is None:
        return False
    to_address(
        session,
        address,
        replies,
        now=now,
        kind=kind,
        priority=priority,
        participant_id=participant.id,
        keyboard=keyboard,
    )
    return True


def to_staff(
    session: AsyncSession,
    staff: Staff,
    replies: list[Reply],
    *,
    now: datetime,
    kind: str = "reply",
    priority: int = PRIORITY_REPLY,
    about: int | None = None,
    alert_id: int | None = None,
) -> None:
    """Queue replies to a staff member's private chat; `about` links them to the
    participant they are about (erased with them)."""
    to_address(
        session,
        staff_address(staff),
        replies,
        now=now,
        kind=kind,
        priority=priority,
        participant_id=about,
        staff_id=staff.id,
        alert_id=alert_id,
    )


def to_officer_group(
    session: AsyncSession,
    officer_group: int,
    participant: Participant,
    replies: list[Reply],
    *,
    now: datetime,
    kind: str,
    priority: int,
    alert_id: int | None = None,
) -> None:
    """Queue replies into the participant's topic of the officer group (the sender finds
    or makes the topic)."""
    to_address(
        session,
        Address(Channel.TELEGRAM, officer_group),
        replies,
        now=now,
        kind=kind,
        priority=priority,
        participant_id=participant.id,
        alert_id=alert_id,
    )


def copy(
    session: AsyncSession,
    to: Address,
    source: Address,
    message_id: int,
    *,
    now: datetime,
    kind: str,
    priority: int,
    caption: str | None = None,
    participant_id: int | None = None,
    staff_id: int | None = None,
    alert_id: int | None = None,
    confirm: dict[str, Any] | None = None,
) -> None:
    """Queue a copy of a message (a participant's photo for the officer, or a staff
    member's file for a participant)."""
    payload: dict[str, Any] = {"from_chat_id": source.chat, "message_id": message_id}
    if caption is not None:
        payload["caption"] = caption
    if confirm is not None:
        payload["confirm"] = confirm
    call(
        session,
        Action.COPY,
        to,
        payload,
        now=now,
        kind=kind,
        priority=priority,
        participant_id=participant_id,
        staff_id=staff_id,
        alert_id=alert_id,
    )


def call(
    session: AsyncSession,
    action: Action,
    to: Address,
    payload: dict[str, Any],
    *,
    now: datetime,
    kind: str = "call",
    priority: int = PRIORITY_PROMPT,
    participant_id: int | None = None,
    staff_id: int | None = None,
    alert_id: int | None = None,
) -> None:
    """Queue one row, due now: an action for a chat. Used directly for what is not a new
    message (rename or delete a topic, edit or delete a message, remove a member), with
    `participant_id` when it names the participant (a topic title), so erasure reaches it."""
    outbox_db.add(
        session,
        kind=kind,
        priority=priority,
        action=action,
        channel=to.channel,
        chat_id=to.chat,
        message_thread_id=to.thread,
        payload=payload,
        participant_id=participant_id,
        staff_id=staff_id,
        alert_id=alert_id,
        due_at=now,
    )
