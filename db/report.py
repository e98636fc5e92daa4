"""Queries of the pilot report (bot/report): counts per week and the plain columns the
figures are made of. Counting over the messages and the outbox happens in the database
(millions of rows); the smaller tables come back as rows of ids, states and moments.

Nothing here reads a name, a text or a chat id: only the columns a figure needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AppointmentStatus, TaskStatus
from db.models import (
    Alert,
    Appointment,
    Checkin,
    HelpRequest,
    Message,
    OutboxItem,
    Participant,
    Partner,
    PlanTask,
    Referral,
)

# The outbox priority of a crisis answer (bot.conversation.outbox.PRIORITY_SAFETY).
SAFETY_PRIORITY = 0


@dataclass(frozen=True)
class Weeks:
    """How to find a moment's local week in SQL: the zone's name (PostgreSQL converts
    itself) and its UTC offsets in the period for SQLite, which knows no zones: each
    `(until, seconds)` holds for moments before `until` (None: to the end)."""

    zone: str
    offsets: Sequence[tuple[datetime | None, int]]


def week_of(column: Any, dialect: str, weeks: Weeks) -> ColumnElement[Any]:
    """The Monday of the local week a timestamp falls in, as text `YYYY-MM-DD`."""
    if dialect == "postgresql":
        return func.to_char(
            func.date_trunc("week", func.timezone(weeks.zone, column)),
            literal_column("'YYYY-MM-DD'"),
        )

    # SQLite keeps UTC as text: shift it to local time, then 'weekday 0' moves to the
    # Sunday ending the week and six days back is its Monday.
    def monday(seconds: int) -> ColumnElement[Any]:
        return func.date(column, f"{seconds:+d} seconds", "weekday 0", "-6 days")

    *bounded, (_, last) = weeks.offsets
    if not bounded:
        return monday(last)
    return case(
        *((column < until, monday(seconds)) for until, seconds in bounded),
        else_=monday(last),
    )


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@dataclass(frozen=True)
class WeekCount:
    """One week's count of rows of one kind, and how many participants they came from."""

    week: str
    kind: str
    rows: int
    people: int


async def messages_per_week(
    session: AsyncSession, start: datetime, end: datetime, weeks: Weeks
) -> list[WeekCount]:
    """Messages in and out per week, with the number of participants behind them."""
    week = week_of(Message.at, _dialect(session), weeks).label("week")
    rows = await session.execute(
        select(week, Message.direction, func.count(), func.count(distinct(Message.participant_id)))
        .where(Message.at >= start, Message.at < end, Message.participant_id.is_not(None))
        .group_by(week, Message.direction)
    )
    return [WeekCount(str(w), str(d), int(n), int(p)) for w, d, n, p in rows]


async def deliveries_per_week(
    session: AsyncSession, start: datetime, end: datetime, weeks: Weeks
) -> list[WeekCount]:
    """Outbox rows to participants per week by final status (sent, failed, blocked, ...)."""
    week = week_of(OutboxItem.created_at, _dialect(session), weeks).label("week")
    rows = await session.execute(
        select(
            week, OutboxItem.status, func.count(), func.count(distinct(OutboxItem.participant_id))
        )
        .where(
            OutboxItem.created_at >= start,
            OutboxItem.created_at < end,
            OutboxItem.participant_id.is_not(None),
            OutboxItem.staff_id.is_(None),
        )
        .group_by(week, OutboxItem.status)
    )
    return [WeekCount(str(w), str(s), int(n), int(p)) for w, s, n, p in rows]


async def crisis_answers(session: AsyncSession, start: datetime, end: datetime) -> tuple[int, int]:
    """Crisis answers (the safety reply with 113/112) sent to participants: rows, people."""
    rows, people = (
        await session.execute(
            select(func.count(), func.count(distinct(OutboxItem.participant_id))).where(
                OutboxItem.priority == SAFETY_PRIORITY,
                OutboxItem.participant_id.is_not(None),
                OutboxItem.staff_id.is_(None),
                OutboxItem.sent_at >= start,
                OutboxItem.sent_at < end,
            )
        )
    ).one()
    return int(rows or 0), int(people or 0)


async def cohort(session: AsyncSession, end: datetime) -> Sequence[Any]:
    """Everyone enrolled before the end of the period: id, enrolment moment, release day,
    consent moment, status and language."""
    return (
        await session.execute(
            select(
                Participant.id,
                Participant.created_at,
                Participant.release_date,
                Participant.consent_at,
                Participant.status,
                Participant.language,
            ).where(Participant.created_at < end)
        )
    ).all()


async def alerts_between(session: AsyncSession, start: datetime, end: datetime) -> Sequence[Any]:
    """Alerts about participants raised in the period: who, kind, severity, raised, seen."""
    return (
        await session.execute(
            select(
                Alert.participant_id,
                Alert.kind,
                Alert.severity,
                Alert.created_at,
                Alert.acknowledged_at,
            ).where(
                Alert.created_at >= start,
                Alert.created_at < end,
                Alert.participant_id.is_not(None),
            )
        )
    ).all()


async def checkins_between(session: AsyncSession, start: datetime, end: datetime) -> Sequence[Any]:
    """Check-ins prompted or completed in the period, with the (decrypted) mood and
    answers: the trend figures need them, and they are encrypted at rest."""
    return (
        await session.execute(
            select(
                Checkin.participant_id,
                Checkin.status,
                Checkin.prompted_at,
                Checkin.completed_at,
                Checkin.mood,
                Checkin.answers,
            ).where(
                ((Checkin.prompted_at >= start) & (Checkin.prompted_at < end))
                | ((Checkin.completed_at >= start) & (Checkin.completed_at < end))
            )
        )
    ).all()


async def help_requests_between(
    session: AsyncSession, start: datetime, end: datetime
) -> Sequence[Any]:
    """Help requests made in the period: who, domain (decrypted), made, picked up, resolved."""
    return (
        await session.execute(
            select(
                HelpRequest.participant_id,
                HelpRequest.domain,
                HelpRequest.created_at,
                HelpRequest.acknowledged_at,
                HelpRequest.resolved_at,
            ).where(HelpRequest.created_at >= start, HelpRequest.created_at < end)
        )
    ).all()


async def appointments_between(
    session: AsyncSession, start: datetime, end: datetime
) -> Sequence[Any]:
    """Appointments (not cancelled) in the period: who, when, confirmation, attendance."""
    return (
        await session.execute(
            select(
                Appointment.participant_id,
                Appointment.at,
                Appointment.confirmation,
                Appointment.attendance,
            ).where(
                Appointment.at >= start,
                Appointment.at < end,
                Appointment.status != AppointmentStatus.CANCELLED,
            )
        )
    ).all()


async def first_appointments_after_release(
    session: AsyncSession, released_from: date, released_until: date
) -> Sequence[Any]:
    """For each participant released in the period: release day and their first
    appointment (not cancelled) on or after it, or None."""
    first = (
        select(Appointment.participant_id, func.min(Appointment.at).label("first_at"))
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.at >= Participant.release_date,
        )
        .group_by(Appointment.participant_id)
        .subquery()
    )
    return (
        await session.execute(
            select(Participant.id, Participant.release_date, first.c.first_at)
            .outerjoin(first, first.c.participant_id == Participant.id)
            .where(
                Participant.release_date >= released_from,
                Participant.release_date <= released_until,
            )
        )
    ).all()


async def tasks_due_between(session: AsyncSession, first: date, last: date) -> Sequence[Any]:
    """Plan tasks due in the period: who, domain, due day, status, done moment."""
    return (
        await session.execute(
            select(
                PlanTask.participant_id,
                PlanTask.domain,
                PlanTask.due_on,
                PlanTask.status,
                PlanTask.done_at,
            ).where(PlanTask.due_on >= first, PlanTask.due_on <= last)
        )
    ).all()


async def blocked_tasks(session: AsyncSession) -> Sequence[Any]:
    """Plan tasks blocked today: who and domain."""
    return (
        await session.execute(
            select(PlanTask.participant_id, PlanTask.domain).where(
                PlanTask.status == TaskStatus.BLOCKED
            )
        )
    ).all()


async def referrals_between(session: AsyncSession, first: date, last: date) -> Sequence[Any]:
    """Referrals sent in the period: who, the partner's domain, sent, accepted, first contact."""
    return (
        await session.execute(
            select(
                Referral.participant_id,
                Partner.domain,
                Referral.sent_on,
                Referral.accepted_on,
                Referral.first_contact_on,
            )
            .join(Partner, Partner.id == Referral.partner_id)
            .where(Referral.sent_on >= first, Referral.sent_on <= last)
        )
    ).all()
