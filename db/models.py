"""The schema: one table per thing Oprit must remember.

Message text and anything a participant wrote is an encrypted column; ids, states and
timestamps stay plain so the scheduler and the officer's overview can query them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import EncryptedJSON, EncryptedText, UtcDateTime

OUTBOX_DEFAULT_PRIORITY = 50


def utcnow() -> datetime:
    """Now, aware, in UTC (the only zone the database holds)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names so migrations work on both backends."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Staff(Base):
    """An officer or coordinator; the role is checked here at every action."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    is_backup: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="nl")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    reachable: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)
    unreachable_notice_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Participant(Base):
    """A person in the programme, from invite to the end of their year outside."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_participants_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    # The messenger the participant uses, and their address there when it is not Telegram
    # (Telegram's is `telegram_id`).
    channel: Mapped[str] = mapped_column(String(16), default="telegram", server_default="telegram")
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    # Indexed: the caseload's language filter lists the languages in use (a coordinator's
    # 50,000 participants: 34 ms without, 3 ms with) and broadcasts count readers per one.
    language: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(16), default="registering", index=True)
    # Indexed: every officer's view (the dashboard's caseload, /participants) starts here.
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id"), nullable=True, index=True
    )
    consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_checkin_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    missed_checkins: Mapped[int] = mapped_column(Integer, default=0)
    last_ack_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_safety_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    forum_topic_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Enrolled before release (status in_detention until the invite is used).
    release_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    facility: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    # Set once each: the officer's reminder the day before release, the morning greeting.
    release_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    release_greeted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Invite(Base):
    """A single-use invite; only a hash of the code is kept."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), nullable=True, index=True
    )


class Message(Base):
    """Every message in or out, one row each; `dedupe_key` makes a redelivery a no-op."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_participant_at", "participant_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), nullable=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    update_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    text: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    media_file_id: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    # What a contact, venue, poll, dice or forwarded message held beyond its text.
    detail: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class InboxUpdate(Base):
    """A raw update, stored before Telegram is told we have it (processed-updates log)."""

    __tablename__ = "inbox"
    # A chat's unprocessed updates, and the urgent ones, without reading the whole backlog.
    __table_args__ = (
        Index("ix_inbox_chat_pending", "chat_id", "processed_at"),
        Index("ix_inbox_urgent_pending", "urgent", "processed_at"),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Read from the payload when it is stored, so the inbox can take a chat whose message
    # looks like a crisis before the backlog of everyday messages (see bot.inbox).
    chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ConversationState(Base):
    """Where a person (a participant or a staff member) is in a flow on one channel, so a
    restart mid-check-in loses nothing and a conversation can go on on another worker."""

    __tablename__ = "conversation_state"
    __table_args__ = (
        UniqueConstraint("participant_id", "channel", name="uq_conversation_state_participant"),
        UniqueConstraint("staff_id", "channel", name="uq_conversation_state_staff"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), nullable=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), nullable=True
    )
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    token: Mapped[str] = mapped_column(String(16))
    data: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Checkin(Base):
    """One check-in (prompted, answered or missed) with all its answers."""

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="prompted")
    step: Mapped[str] = mapped_column(String(16), default="mood")
    token: Mapped[str] = mapped_column(String(16))
    prompted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    mood: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    answers: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    note: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    voice_file_id: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class HelpRequest(Base):
    """A participant's request for help; `id` is the reference number (H-0042)."""

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(EncryptedText)
    text: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    media_file_ids: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)


class Appointment(Base):
    """An appointment with a partner organisation, in UTC; shown in local time."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    with_org: Mapped[str] = mapped_column(EncryptedText)
    location: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    note: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    confirmation: Mapped[str] = mapped_column(String(16), default="pending")
    decline_reason: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # After its time the officer is asked whether the participant came (feeds the evaluation).
    attendance: Mapped[str | None] = mapped_column(String(16), nullable=True)
    attendance_asked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Made by a reporting duty (one of a series); the appointment outlives the condition.
    condition_id: Mapped[int | None] = mapped_column(
        ForeignKey("conditions.id", ondelete="SET NULL"), nullable=True, index=True
    )


class Reminder(Base):
    """One reminder for one appointment at one offset before it."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    offset_seconds: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Alert(Base):
    """Something the officer must see; delivered through the outbox."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(10))
    categories: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    matches: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    excerpt: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True, index=True
    )
    help_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("help_requests.id", ondelete="CASCADE"), nullable=True, index=True
    )
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Broadcast(Base):
    """A coordinator's message to all participants or a cohort, now or later."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    texts: Mapped[Any] = mapped_column(EncryptedJSON)
    cohort: Mapped[str] = mapped_column(String(32), default="all")
    send_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutboxItem(Base):
    """A message that must go out; a row before it is sent, claimed atomically.

    Broadcast deliveries, reminders, alerts, prompts and replies are all outbox rows;
    the Telegram message id is kept so a staff reply to it finds its participant.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "due_at", "priority"),
        Index("ix_outbox_chat_message", "chat_id", "telegram_message_id"),
        UniqueConstraint("broadcast_id", "participant_id", name="uq_outbox_broadcast_recipient"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=OUTBOX_DEFAULT_PRIORITY)
    channel: Mapped[str] = mapped_column(String(16), default="telegram", server_default="telegram")
    action: Mapped[str] = mapped_column(String(32), default="message")
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_thread_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    payload: Mapped[Any] = mapped_column(EncryptedJSON)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="CASCADE"), nullable=True, index=True
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set just before the Bot API call of a row that must never go twice (a broadcast):
    # after a stop or crash, a claimed row without it was never attempted and can go again.
    attempt_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Receipts from messengers that send them (Signal): the person's phone got the
    # message, and they opened it.
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Partner(Base):
    """A partner organisation the officer works with (debt counselling, a housing
    corporation, probation); a plan task can be theirs."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(16))
    contact: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    reach: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PlanTask(Base):
    """One task of a participant's plan on one life domain: what, whose, by when, how far.
    What a task says is encrypted: a title like "debt overview" is sensitive."""

    __tablename__ = "plan_tasks"
    __table_args__ = (Index("ix_plan_tasks_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(EncryptedText)
    # A task of the default release checklist: shown in the reader's language by this key.
    template: Mapped[str | None] = mapped_column(String(32), nullable=True)
    owner: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id"), nullable=True, index=True
    )
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    notes: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The participant's reminder the day before `due_on`, and the officer's overdue alert.
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Referral(Base):
    """The officer connected the participant with a partner: sent, accepted, first contact,
    then closed or declined, each step dated; the outcome and notes are encrypted."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="sent")
    sent_on: Mapped[date] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    first_contact_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    outcome: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The officer's alert when the partner made no first contact in time, once.
    stale_alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Condition(Base):
    """A special condition set by the court or probation (reporting duty, location or
    contact ban, treatment). Shown to staff only; everything about it is encrypted, its
    kind too: "contact ban" alone says a lot about a person."""

    __tablename__ = "conditions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(EncryptedText)
    text: Mapped[str] = mapped_column(EncryptedText)
    imposed_by: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # A reporting duty's recurring appointments: weekday, time, every N weeks, with whom
    # and where (encrypted like the rest; None for other conditions).
    schedule: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON, nullable=True)


class Answer(Base):
    """An answer to a short question flow (e.g. the weekly sleep question): a flow that
    only asks something needs no table of its own."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    flow: Mapped[str] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(EncryptedText)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEntry(Base):
    """Who did what to whose data, without content."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_actor_at", "action", "actor_telegram_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(16))
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    participant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[Any] = mapped_column(JSON, nullable=True)


class KeyValue(Base):
    """Small bits of process state that must survive restarts (heartbeat, bot username)."""

    __tablename__ = "key_value"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Values about one participant (their topic's title) go when that participant is erased.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), nullable=True, index=True
    )


class Mute(Base):
    """A staff member who does not want copies of a participant's everyday messages
    (flagged ones and alerts still come)."""

    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("staff_id", "participant_id", name="uq_mutes"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SignalContact(Base):
    """Someone who wrote to the bot's Signal number. Their number and Signal id are
    personal data: stored encrypted, found through a keyed hash (`lookup`), and erased
    with the participant. Oprit names the chat with a number (bot.channels.signal)."""

    __tablename__ = "signal_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    uuid: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebLoginToken(Base):
    """A one-time dashboard login link; only a hash of its token is kept."""

    __tablename__ = "web_login_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WebSession(Base):
    """A dashboard session: the cookie holds a random token, this row only its hash, so a
    logout, a removal or the idle timeout ends it at once on every worker."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
