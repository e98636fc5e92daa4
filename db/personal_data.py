"""Every table that holds data about a participant, declared once.

Export, erasure and the retention purge all go through this list, so a new table about
participants is reached by all three as soon as it is added here — and the tests fail
when a table with a `participant_id` (or a foreign key to one) is missing from it.

- `exported_as`: its key in `oprit export` (None: internal bookkeeping, not shown).
- `purged_by`: the time column the retention period applies to (None: kept while the
  participant exists, then erased with them).
- erasure: deleting the participant row removes every row of these tables, through the
  foreign keys (ON DELETE CASCADE); `erased_by` names the exceptions erasure handles itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import BroadcastStatus, OutboxStatus
from db.models import (
    Alert,
    Answer,
    Appointment,
    AuditEntry,
    Base,
    Broadcast,
    Checkin,
    Condition,
    ConversationState,
    HelpRequest,
    InboxUpdate,
    Invite,
    KeyValue,
    Message,
    Mute,
    OutboxItem,
    Participant,
    PlanTask,
    Referral,
    Reminder,
    SignalContact,
)


@dataclass(frozen=True)
class PersonalTable:
    """One table about participants (see the module docstring)."""

    model: type[Base]
    exported_as: str | None
    purged_by: str | None
    purge_only: Any = None  # an extra condition for the purge (only finished rows)
    erased_by: str = "cascade"  # or why erasure treats it differently
    export_order: str = "id"  # the column `oprit export` lists rows by


FINISHED = (
    OutboxStatus.SENT,
    OutboxStatus.FAILED,
    OutboxStatus.BLOCKED,
    OutboxStatus.UNKNOWN,
    OutboxStatus.CANCELLED,
)

PERSONAL_DATA: tuple[PersonalTable, ...] = (
    PersonalTable(Participant, "participant", None, erased_by="the row itself"),
    PersonalTable(Message, "messages", "at"),
    PersonalTable(Checkin, "checkins", "created_at"),
    PersonalTable(HelpRequest, "help_requests", "created_at"),
    PersonalTable(Appointment, "appointments", "at", export_order="at"),
    PersonalTable(Reminder, None, "due_at"),  # through its appointment
    PersonalTable(Alert, "alerts", "created_at"),
    PersonalTable(Answer, "answers", "at"),
    # The plan is kept while the participant is in the programme, then erased with them.
    PersonalTable(PlanTask, "plan", None, export_order="created_at"),
    PersonalTable(Referral, "referrals", None, export_order="created_at"),
    PersonalTable(Condition, "conditions", None, export_order="created_at"),
    PersonalTable(OutboxItem, None, "created_at", purge_only=OutboxItem.status.in_(FINISHED)),
    PersonalTable(ConversationState, None, "updated_at"),
    PersonalTable(Mute, None, None),  # a staff member's choice, kept while both exist
    PersonalTable(KeyValue, None, None),  # values about one participant (a topic title)
    PersonalTable(Invite, None, None, erased_by="deleted by erasure (the link is SET NULL)"),
    # Their Signal number; the numbers of people who never signed up go with the retention.
    PersonalTable(
        SignalContact,
        "signal",
        "created_at",
        purge_only=SignalContact.participant_id.is_(None),
    ),
    PersonalTable(
        AuditEntry,
        None,
        None,
        erased_by="kept for accountability: ids and facts only, the account id removed",
    ),
)

# Tables not about one participant that the retention period still applies to.
OTHER_PURGED: tuple[PersonalTable, ...] = (
    PersonalTable(
        InboxUpdate, None, "received_at", purge_only=InboxUpdate.processed_at.is_not(None)
    ),
    PersonalTable(
        Broadcast, None, "created_at", purge_only=Broadcast.status == BroadcastStatus.DONE
    ),
)


def exported() -> list[PersonalTable]:
    """The tables `oprit export` shows, in the order of the document."""
    return [table for table in PERSONAL_DATA if table.exported_as is not None]


async def rows_of(
    session: AsyncSession, table: PersonalTable, participant_id: int
) -> Sequence[Any]:
    """A participant's rows of one table, in export order."""
    model: Any = table.model
    column = model.id if table.model is Participant else model.participant_id
    order = getattr(model, table.export_order)
    statement = select(model).where(column == participant_id).order_by(order, model.id)
    return (await session.scalars(statement)).all()
