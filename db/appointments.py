"""Appointment and reminder queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AlertStatus, AppointmentStatus, ReminderStatus
from db.models import Alert, Appointment, Reminder


async def upcoming(
    session: AsyncSession, participant_id: int, now: datetime
) -> Sequence[Appointment]:
    """Scheduled appointments still ahead, soonest first."""
    return (
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.participant_id == participant_id,
                Appointment.status == AppointmentStatus.SCHEDULED,
                Appointment.at > now,
            )
            .order_by(Appointment.at)
        )
    ).all()


async def due_reminders(session: AsyncSession, now: datetime, limit: int) -> Sequence[Reminder]:
    """Pending reminders whose time has come, earliest first."""
    return (
        await session.scalars(
            select(Reminder)
            .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now)
            .order_by(Reminder.due_at)
            .limit(limit)
        )
    ).all()


async def count_pending_reminders(session: AsyncSession, due_by: datetime) -> int:
    """How many reminders are still to go out up to `due_by` (past due ones included)."""
    count = await session.scalar(
        select(func.count()).where(
            Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= due_by
        )
    )
    return int(count or 0)


async def claim_reminder(
    session: AsyncSession, reminder_id: int, status: str, now: datetime
) -> bool:
    """Move a pending reminder on (sent/dropped/skipped) exactly once, whatever the workers."""
    result = await session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.status == ReminderStatus.PENDING)
        .values(status=status, sent_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


async def pending_reminders(session: AsyncSession, appointment_id: int) -> Sequence[Reminder]:
    """An appointment's reminders that have not gone out yet."""
    return (
        await session.scalars(
            select(Reminder).where(
                Reminder.appointment_id == appointment_id, Reminder.status == ReminderStatus.PENDING
            )
        )
    ).all()


async def open_alerts(
    session: AsyncSession, appointment_id: int, kinds: Sequence[str]
) -> Sequence[Alert]:
    """Alerts of these kinds about an appointment that nobody resolved yet."""
    return (
        await session.scalars(
            select(Alert).where(
                Alert.appointment_id == appointment_id,
                Alert.kind.in_(list(kinds)),
                Alert.status != AlertStatus.RESOLVED,
            )
        )
    ).all()


async def passed_unasked(
    session: AsyncSession, passed_after: datetime, passed_before: datetime, limit: int
) -> Sequence[Appointment]:
    """The oldest `limit` scheduled appointments whose time is between the two moments,
    whose attendance nobody was asked about or recorded yet."""
    return (
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.status == AppointmentStatus.SCHEDULED,
                Appointment.at > passed_after,
                Appointment.at <= passed_before,
                Appointment.attendance.is_(None),
                Appointment.attendance_asked_at.is_(None),
            )
            .order_by(Appointment.at, Appointment.id)
            .limit(limit)
        )
    ).all()


async def claim_attendance_question(
    session: AsyncSession, appointment_id: int, now: datetime
) -> bool:
    """Mark the attendance question asked, once."""
    result = await session.execute(
        update(Appointment)
        .where(Appointment.id == appointment_id, Appointment.attendance_asked_at.is_(None))
        .values(attendance_asked_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
