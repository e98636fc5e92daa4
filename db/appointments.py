"""Appointment and reminder queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Appointment, Reminder


async def upcoming(
    session: AsyncSession, participant_id: int, now: datetime
) -> Sequence[Appointment]:
    """Scheduled appointments still ahead, soonest first."""
    return (
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.participant_id == participant_id,
                Appointment.status == "scheduled",
                Appointment.at > now,
            )
            .order_by(Appointment.at)
        )
    ).all()


async def appointments_of(session: AsyncSession, participant_id: int) -> Sequence[Appointment]:
    """All appointments of a participant, in time order."""
    return (
        await session.scalars(
            select(Appointment)
            .where(Appointment.participant_id == participant_id)
            .order_by(Appointment.at)
        )
    ).all()


async def reminders_of(session: AsyncSession, appointment_id: int) -> Sequence[Reminder]:
    """An appointment's reminders, earliest first."""
    return (
        await session.scalars(
            select(Reminder)
            .where(Reminder.appointment_id == appointment_id)
            .order_by(Reminder.due_at)
        )
    ).all()
