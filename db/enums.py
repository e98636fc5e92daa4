"""The fixed sets of values the schema stores as text: statuses, kinds, roles, channels.

Each is a StrEnum, so a member is also its string: it is stored and compared as such, and
a typo in a status is a name error instead of a silent mismatch.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """A messenger a person is reached on."""

    TELEGRAM = "telegram"
    MEMORY = "memory"  # in-process channel of the tests: proves the flows are channel-neutral
    SIGNAL = "signal"  # a signal-cli daemon (bot.channels.signal); participants only


class Role(StrEnum):
    """What a staff member may do."""

    OFFICER = "officer"
    COORDINATOR = "coordinator"


class ParticipantStatus(StrEnum):
    """Where a participant stands."""

    IN_DETENTION = "in_detention"  # enrolled before release, no chat account linked yet
    REGISTERING = "registering"  # invite used, consent not given yet
    ACTIVE = "active"
    PAUSED = "paused"  # /stop: no automatic messages
    UNREACHABLE = "unreachable"  # blocked the bot


class PlanDomain(StrEnum):
    """The life domains of a plan: the check-in's five plus justice and conditions."""

    HOUSING = "housing"
    WORK = "work"
    MONEY = "money"
    CARE = "care"
    PAPERWORK = "paperwork"
    JUSTICE = "justice"


class TaskOwner(StrEnum):
    """Who does a plan task."""

    PARTICIPANT = "participant"
    OFFICER = "officer"
    PARTNER = "partner"  # a partner organisation (the task names which)


class TaskStatus(StrEnum):
    """How far a plan task is."""

    OPEN = "open"
    DONE = "done"
    BLOCKED = "blocked"
    DROPPED = "dropped"


class ReferralStatus(StrEnum):
    """How far a referral to a partner is."""

    SENT = "sent"
    ACCEPTED = "accepted"
    FIRST_CONTACT = "first_contact"
    CLOSED = "closed"
    DECLINED = "declined"


class AlertKind(StrEnum):
    """Why the officer is alerted."""

    FLAG = "flag"
    HELP_REQUEST = "help_request"
    CHECKIN = "checkin"
    MISSED_CHECKINS = "missed_checkins"
    CANT_MAKE_IT = "cant_make_it"
    NO_CONFIRMATION = "no_confirmation"
    PAUSED = "paused"
    UNREACHABLE = "unreachable"
    SAFETY_CHECK = "safety_check"  # the bot asked directly about self-harm (and the answer)
    TASK_OVERDUE = "task_overdue"  # a participant's plan task is overdue by some days
    REFERRAL_STALE = "referral_stale"  # a partner made no first contact in time


class AlertStatus(StrEnum):
    """How far staff got with an alert."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class HelpStatus(StrEnum):
    """How far staff got with a help request."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class CheckinStatus(StrEnum):
    """One check-in, from prompt to answer."""

    PROMPTED = "prompted"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PARTIAL = "partial"  # a later prompt came while it was half answered
    MISSED = "missed"


class AppointmentStatus(StrEnum):
    """Whether an appointment still stands."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Attendance(StrEnum):
    """Whether the participant came to an appointment, as the officer records it."""

    ATTENDED = "attended"
    NO_SHOW = "no-show"
    RESCHEDULED = "rescheduled"


class Confirmation(StrEnum):
    """What the participant said about an appointment."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class ReminderStatus(StrEnum):
    """One reminder of one appointment."""

    PENDING = "pending"
    SENT = "sent"
    DROPPED = "dropped"  # too late to be useful
    SKIPPED = "skipped"  # the participant paused or cannot be reached
    CANCELLED = "cancelled"  # the appointment moved or was cancelled


class BroadcastStatus(StrEnum):
    """A coordinator's broadcast."""

    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"


class OutboxStatus(StrEnum):
    """One outgoing message or call."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"  # the request left but no answer came (never sent again)
    CANCELLED = "cancelled"  # no longer needed before it was sent (an answered question)


class Action(StrEnum):
    """What an outbox row asks a channel to do; the channel turns it into its own call."""

    MESSAGE = "message"  # text with choices or a keyboard, or a file
    COPY = "copy"  # show the officer what the participant sent (photo, voice, ...)
    EDIT = "edit"  # change the text of a message sent earlier
    THREAD_TITLE = "thread_title"  # rename the participant's topic in the officer group
    THREAD_DELETE = "thread_delete"  # delete that topic with everything in it
    MEMBER_REMOVE = "member_remove"  # take a removed staff member out of the officer group
    MEMBER_RESTORE = "member_restore"  # let a staff member who was taken back on return
    MESSAGE_DELETE = "message_delete"  # delete a message the bot sent


class Direction(StrEnum):
    """A stored message went in (from the participant) or out (from Oprit)."""

    IN = "in"
    OUT = "out"
