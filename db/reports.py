"""Read-only overviews across tables (participant lists, counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AlertStatus, AppointmentStatus, CheckinStatus, HelpStatus
from db.models import Alert, Appointment, Checkin, HelpRequest, Message, OutboxItem, Participant


@dataclass(frozen=True)
class ParticipantRow:
    """One line of the participant overview."""

    id: int
    name: str
    telegram_id: int | None
    language: str
    status: str
    officer_id: int | None
    last_checkin_at: datetime | None
    open_help_requests: int
    next_appointment_at: datetime | None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def participant_overview(
    session: AsyncSession, now: datetime, officer_id: int | None = None
) -> list[ParticipantRow]:
    """Every participant (or one officer's) with open requests and next appointment."""
    open_requests = (
        select(HelpRequest.participant_id, func.count().label("open"))
        .where(HelpRequest.status != HelpStatus.RESOLVED)
        .group_by(HelpRequest.participant_id)
        .subquery()
    )
    next_appointment = (
        select(Appointment.participant_id, func.min(Appointment.at).label("next_at"))
        .where(Appointment.status == AppointmentStatus.SCHEDULED, Appointment.at > now)
        .group_by(Appointment.participant_id)
        .subquery()
    )
    query = (
        select(Participant, open_requests.c.open, next_appointment.c.next_at)
        .outerjoin(open_requests, open_requests.c.participant_id == Participant.id)
        .outerjoin(next_appointment, next_appointment.c.participant_id == Participant.id)
        .order_by(Participant.id)
    )
    if officer_id is not None:
        query = query.where(Participant.officer_id == officer_id)
    rows = []
    for participant, open_count, next_at in (await session.execute(query)).all():
        rows.append(
            ParticipantRow(
                id=participant.id,
                name=participant.name,
                telegram_id=participant.telegram_id,
                language=participant.language,
                status=participant.status,
                officer_id=participant.officer_id,
                last_checkin_at=participant.last_checkin_at,
                open_help_requests=int(open_count or 0),
                next_appointment_at=_aware(next_at),
            )
        )
    return rows


async def recent_moods(
    session: AsyncSession, participant_ids: list[int], per_participant: int = 4
) -> dict[int, list[str]]:
    """The last few check-in moods per participant, oldest first (for a trend)."""
    if not participant_ids:
        return {}
    rows = (
        await session.execute(
            select(Checkin.participant_id, Checkin.mood)
            .where(
                Checkin.participant_id.in_(participant_ids),
                Checkin.status == CheckinStatus.COMPLETED,
                Checkin.mood.is_not(None),
            )
            .order_by(Checkin.completed_at)
        )
    ).all()
    moods: dict[int, list[str]] = {}
    for participant_id, mood in rows:
        moods.setdefault(participant_id, []).append(str(mood))
    return {key: value[-per_participant:] for key, value in moods.items()}


async def inbound_between(session: AsyncSession, start: datetime, end: datetime) -> int:
    """How many participant messages were sent in a period."""
    count = await session.scalar(
        select(func.count()).where(
            Message.direction == "in", Message.at >= start, Message.at <= end
        )
    )
    return int(count or 0)


@dataclass(frozen=True)
class Health:
    """Numbers the metrics gauges show."""

    outbox_due: int
    oldest_due: datetime | None
    unacknowledged_alerts: int
    broadcast_pending: int


async def health(session: AsyncSession, now: datetime) -> Health:
    """Outbox depth and age, open alerts and broadcast backlog."""
    due, oldest = (
        await session.execute(
            select(func.count(), func.min(OutboxItem.due_at)).where(
                OutboxItem.status.in_(("pending", "sending")), OutboxItem.due_at <= now
            )
        )
    ).one()
    unacknowledged = await session.scalar(
        select(func.count()).where(Alert.status == AlertStatus.OPEN)
    )
    broadcast = await session.scalar(
        select(func.count()).where(
            OutboxItem.kind == "broadcast", OutboxItem.status.in_(("pending", "sending"))
        )
    )
    return Health(int(due or 0), _aware(oldest), int(unacknowledged or 0), int(broadcast or 0))


async def open_counts(session: AsyncSession, participant_id: int) -> tuple[int, int]:
    """Open help requests and unacknowledged alerts of one participant."""
    requests = await session.scalar(
        select(func.count()).where(
            HelpRequest.participant_id == participant_id, HelpRequest.status != HelpStatus.RESOLVED
        )
    )
    alerts = await session.scalar(
        select(func.count()).where(
            Alert.participant_id == participant_id, Alert.status == AlertStatus.OPEN
        )
    )
    return int(requests or 0), int(alerts or 0)
