"""Queries behind the officer's overview: participants, open alerts, a case timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AlertKind, AlertStatus, Direction
from db.models import Alert, Appointment, Checkin, HelpRequest, Message, Participant, Staff


async def find_participants(
    session: AsyncSession, query: str, officer_id: int | None
) -> Sequence[Participant]:
    """Participants whose id is `query` or whose name contains it (case-insensitive)."""
    statement = select(Participant).order_by(Participant.id).limit(10)
    if query.isdigit():
        statement = statement.where(Participant.id == int(query))
    else:
        statement = statement.where(Participant.name.ilike(f"%{_escape_like(query)}%", escape="\\"))
    if officer_id is not None:
        statement = statement.where(
            or_(Participant.officer_id == officer_id, Participant.officer_id.is_(None))
        )
    return (await session.scalars(statement)).all()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def open_alerts(
    session: AsyncSession, officer_id: int | None, limit: int = 20
) -> Sequence[tuple[Alert, Participant]]:
    """Open or acknowledged alerts, most severe and oldest first."""
    statement = (
        select(Alert, Participant)
        .join(Participant, Participant.id == Alert.participant_id)
        .where(Alert.status != AlertStatus.RESOLVED)
        .order_by(Alert.created_at)
        .limit(limit * 5)
    )
    if officer_id is not None:
        statement = statement.where(
            or_(Participant.officer_id == officer_id, Participant.officer_id.is_(None))
        )
    return [(alert, participant) for alert, participant in (await session.execute(statement)).all()]


@dataclass(frozen=True)
class Timeline:
    """What happened with one participant in a period."""

    checkins: Sequence[Checkin]
    help_requests: Sequence[HelpRequest]
    appointments: Sequence[Appointment]
    conversation: Sequence[tuple[Message, Alert | None, str | None]]  # the newest ones
    messages: int  # how many messages the whole period has


async def timeline(
    session: AsyncSession,
    participant_id: int,
    chat_id: int | None,
    since: datetime,
    newest: int,
    before: tuple[datetime, int] | None = None,
) -> Timeline:
    """Check-ins, help requests, appointments and the conversation since a moment: every
    message the participant sent (with its flag alert, if any) and every message sent to
    their chat (with the name of the staff member who wrote it, if one did)."""
    checkins = (
        await session.scalars(
            select(Checkin)
            .where(Checkin.participant_id == participant_id, Checkin.created_at >= since)
            .order_by(Checkin.created_at)
        )
    ).all()
    requests = (
        await session.scalars(
            select(HelpRequest)
            .where(HelpRequest.participant_id == participant_id, HelpRequest.created_at >= since)
            .order_by(HelpRequest.created_at)
        )
    ).all()
    appointments = (
        await session.scalars(
            select(Appointment)
            .where(Appointment.participant_id == participant_id, Appointment.at >= since)
            .order_by(Appointment.at)
        )
    ).all()
    flag = (Alert.message_id == Message.id) & (Alert.kind == AlertKind.FLAG)
    to_them = Message.chat_id == chat_id if chat_id is not None else false()
    in_case = (
        Message.participant_id == participant_id,
        Message.at >= since,
        or_(Message.direction == Direction.IN, to_them),
    )
    # Only the newest `newest` messages are read (a page never needs more), so a case with
    # tens of thousands of messages opens as fast as a small one; the count says how many.
    newest_first = [
        (message, alert, writer)
        for message, alert, writer in await session.execute(
            select(Message, Alert, Staff.name)
            .outerjoin(Alert, flag)
            .outerjoin(Staff, Staff.id == Message.staff_id)
            .where(*in_case, *_older_than(before))
            .order_by(Message.at.desc(), Message.id.desc())
            .limit(newest)
        )
    ]
    total = await session.scalar(select(func.count()).select_from(Message).where(*in_case))
    conversation = list(reversed(newest_first))
    return Timeline(checkins, requests, appointments, conversation, int(total or 0))


def _older_than(before: tuple[datetime, int] | None) -> list[ColumnElement[bool]]:
    """Messages older than (at, id) of one message: the page of a timeline before it."""
    if before is None:
        return []
    at, message_id = before
    return [or_(Message.at < at, and_(Message.at == at, Message.id < message_id))]


async def unescalated(
    session: AsyncSession, older_than: datetime
) -> Sequence[tuple[Alert, Participant]]:
    """High and critical alerts still open, created before a moment, never escalated."""
    return [
        (alert, participant)
        for alert, participant in (
            await session.execute(
                select(Alert, Participant)
                .join(Participant, Participant.id == Alert.participant_id)
                .where(
                    Alert.status == AlertStatus.OPEN,
                    Alert.severity.in_(("high", "critical")),
                    Alert.escalated_at.is_(None),
                    Alert.created_at <= older_than,
                )
            )
        ).all()
    ]
