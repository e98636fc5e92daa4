"""Queries behind the dashboard: the caseload table (filtered, sorted and paged in SQL,
so a coordinator's 50,000 participants cost one page), one participant's page, and the
numbers the page polls to know that something changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import (
    AlertStatus,
    AppointmentStatus,
    CheckinStatus,
    Direction,
    HelpStatus,
    OutboxStatus,
    ParticipantStatus,
)
from db.models import (
    Alert,
    Appointment,
    AuditEntry,
    Checkin,
    HelpRequest,
    Message,
    OutboxItem,
    Participant,
    Staff,
)

CASE_READ = "case_read"  # the audit action of opening a case: what was read, and when
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SORTS = ("attention", "name", "contact", "checkin", "appointment", "unread")
FILTERS = ("all", "attention", "paused", "unreachable")
NOT_WRITTEN = ("command", "callback", "edit")
SEVERITY_ORDER = ("critical", "high", "medium", "low")
SEVERITY_RANK = case(
    *((Alert.severity == name, rank) for rank, name in enumerate(SEVERITY_ORDER)),
    else_=len(SEVERITY_ORDER),
)


@dataclass(frozen=True)
class CaseloadRow:
    """One participant in the caseload table."""

    id: int
    name: str
    language: str
    status: str
    missed_checkins: int
    open_alerts: int
    oldest_alert_at: datetime | None
    worst_severity: str | None
    last_contact_at: datetime | None
    last_checkin_at: datetime | None
    open_requests: int
    next_appointment_at: datetime | None
    next_confirmation: str | None
    unread: int
    moods: Sequence[str]


@dataclass(frozen=True)
class CaseloadQuery:
    """What the caseload page asks for."""

    officer_id: int | None  # None: everyone
    reader_telegram_id: int  # whose unread count
    search: str = ""
    show: str = "all"
    language: str | None = None
    sort: str = "attention"
    descending: bool = False
    limit: int = 100
    offset: int = 0
    missed_alert: int = 2  # missed check-ins that need attention


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _columns(reader_telegram_id: int, now: datetime) -> dict[str, Any]:
    """The per-participant numbers, as correlated subqueries (each one an index look-up)."""
    me = Participant.id
    last_read = (
        select(func.max(AuditEntry.at))
        .where(
            AuditEntry.action == CASE_READ,
            AuditEntry.actor_telegram_id == reader_telegram_id,
            AuditEntry.participant_id == me,
        )
        .scalar_subquery()
    )
    inbound = and_(Message.participant_id == me, Message.direction == Direction.IN)
    # Unread: what the participant wrote or sent, not their commands and button presses.
    written = and_(inbound, Message.kind.not_in(NOT_WRITTEN))
    return {
        "open_alerts": select(func.count())
        .where(Alert.participant_id == me, Alert.status == AlertStatus.OPEN)
        .scalar_subquery(),
        "oldest_alert_at": select(func.min(Alert.created_at))
        .where(Alert.participant_id == me, Alert.status == AlertStatus.OPEN)
        .scalar_subquery(),
        "last_contact_at": select(func.max(Message.at)).where(inbound).scalar_subquery(),
        "open_requests": select(func.count())
        .where(HelpRequest.participant_id == me, HelpRequest.status != HelpStatus.RESOLVED)
        .scalar_subquery(),
        "next_appointment_at": select(func.min(Appointment.at))
        .where(
            Appointment.participant_id == me,
            Appointment.status == AppointmentStatus.SCHEDULED,
            Appointment.at > now,
        )
        .scalar_subquery(),
        "unread": select(func.count())
        .where(written, Message.at > func.coalesce(last_read, EPOCH))
        .scalar_subquery(),
    }


def _open_alerts(within: Any) -> Any:
    """Per participant with open alerts: how many, the worst rank, the oldest (a few rows:
    only open alerts, of the participants `within` when that is not None)."""
    statement = (
        select(
            Alert.participant_id.label("participant_id"),
            func.count().label("count"),
            func.min(SEVERITY_RANK).label("worst"),
            func.min(Alert.created_at).label("oldest"),
        )
        .where(Alert.status == AlertStatus.OPEN)
        .group_by(Alert.participant_id)
    )
    if within is not None:
        statement = statement.where(Alert.participant_id.in_(within))
    return statement.subquery()


def _open_requests(within: Any) -> Any:
    statement = (
        select(HelpRequest.participant_id.label("participant_id"), func.count().label("count"))
        .where(HelpRequest.status != HelpStatus.RESOLVED)
        .group_by(HelpRequest.participant_id)
    )
    if within is not None:
        statement = statement.where(HelpRequest.participant_id.in_(within))
    return statement.subquery()


async def caseload(
    session: AsyncSession, query: CaseloadQuery, now: datetime
) -> tuple[list[CaseloadRow], int]:
    """One page of the caseload and how many rows all pages hold.

    Two steps, so a coordinator's 50,000 participants cost one page: the ids of the page,
    filtered and sorted with only what the sort and filter need (open alerts and help
    requests joined as small grouped sets), then every number for those ids alone."""
    columns = _columns(query.reader_telegram_id, now)
    where: list[ColumnElement[bool]] = []
    within = None
    if query.officer_id is not None:
        mine = or_(Participant.officer_id == query.officer_id, Participant.officer_id.is_(None))
        where.append(mine)
        within = select(Participant.id).where(mine)
    alerts, requests = _open_alerts(within), _open_requests(within)
    if query.search:
        pattern = f"%{_escape_like(query.search)}%"
        where.append(Participant.name.ilike(pattern, escape="\\"))
    if query.language:
        where.append(Participant.language == query.language)
    if query.show == "paused":
        where.append(Participant.status == ParticipantStatus.PAUSED)
    elif query.show == "unreachable":
        where.append(Participant.status == ParticipantStatus.UNREACHABLE)
    elif query.show == "attention":
        where.append(
            or_(
                alerts.c.count > 0,
                requests.c.count > 0,
                Participant.missed_checkins >= query.missed_alert,
                Participant.status == ParticipantStatus.UNREACHABLE,
            )
        )

    def joined(statement: Any, needed: bool = True) -> Any:
        statement = statement.select_from(Participant)
        if needed:
            statement = statement.outerjoin(
                alerts, alerts.c.participant_id == Participant.id
            ).outerjoin(requests, requests.c.participant_id == Participant.id)
        return statement.where(*where)

    total = await session.scalar(joined(select(func.count()), query.show == "attention"))
    sorted_by_attention = query.sort not in SORTS[1:]
    ids = list(
        (
            await session.scalars(
                joined(select(Participant.id), sorted_by_attention or query.show == "attention")
                .order_by(*_order(query, columns, alerts, requests), Participant.id)
                .limit(query.limit)
                .offset(query.offset)
            )
        ).all()
    )
    found = {
        row[0].id: row
        for row in await session.execute(
            select(Participant, *(value.label(name) for name, value in columns.items())).where(
                Participant.id.in_(ids)
            )
        )
    }
    moods = await recent_moods(session, ids)
    worst = await _worst_severities(session, ids)
    confirmations = await _next_confirmations(session, ids, now)
    rows = []
    for participant_id in ids:
        row = found[participant_id]
        participant: Participant = row[0]
        values = row._mapping
        rows.append(
            CaseloadRow(
                id=participant.id,
                name=participant.name,
                language=participant.language,
                status=participant.status,
                missed_checkins=participant.missed_checkins,
                open_alerts=int(values["open_alerts"] or 0),
                oldest_alert_at=_aware(values["oldest_alert_at"]),
                worst_severity=worst.get(participant.id),
                last_contact_at=_aware(values["last_contact_at"]),
                last_checkin_at=participant.last_checkin_at,
                open_requests=int(values["open_requests"] or 0),
                next_appointment_at=_aware(values["next_appointment_at"]),
                next_confirmation=confirmations.get(participant.id),
                unread=int(values["unread"] or 0),
                moods=moods.get(participant.id, []),
            )
        )
    return rows, int(total or 0)


def _order(query: CaseloadQuery, columns: dict[str, Any], alerts: Any, requests: Any) -> list[Any]:
    """ORDER BY for a sort key; empty values last either way."""

    def by(value: Any) -> list[Any]:
        return [value.is_(None), value.desc() if query.descending else value.asc()]

    if query.sort == "name":
        return by(func.lower(Participant.name))
    if query.sort == "contact":
        return by(columns["last_contact_at"])
    if query.sort == "checkin":
        return by(Participant.last_checkin_at)
    if query.sort == "appointment":
        return by(columns["next_appointment_at"])
    if query.sort == "unread":
        return [columns["unread"].asc() if query.descending else columns["unread"].desc()]
    # Needs attention first: the worst open alert, the oldest first, then open help requests.
    return [
        alerts.c.worst.is_(None),
        alerts.c.worst.desc() if query.descending else alerts.c.worst.asc(),
        alerts.c.oldest.asc(),
        func.coalesce(requests.c.count, 0).desc(),
    ]


async def recent_moods(
    session: AsyncSession, participant_ids: Sequence[int], per_participant: int = 8
) -> dict[int, list[str]]:
    """The last few check-in moods per participant, oldest first (for a sparkline)."""
    if not participant_ids:
        return {}
    numbered = (
        select(
            Checkin.participant_id,
            Checkin.mood,
            func.row_number()
            .over(partition_by=Checkin.participant_id, order_by=Checkin.completed_at.desc())
            .label("n"),
        )
        .where(
            Checkin.participant_id.in_(participant_ids),
            Checkin.status == CheckinStatus.COMPLETED,
            Checkin.mood.is_not(None),
        )
        .subquery()
    )
    rows = await session.execute(
        select(numbered.c.participant_id, numbered.c.mood, numbered.c.n).where(
            numbered.c.n <= per_participant
        )
    )
    moods: dict[int, list[tuple[int, str]]] = {}
    for participant_id, mood, number in rows:
        moods.setdefault(participant_id, []).append((number, str(mood)))
    return {key: [mood for _n, mood in sorted(value, reverse=True)] for key, value in moods.items()}


async def _worst_severities(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Alert.participant_id, Alert.severity).where(
            Alert.participant_id.in_(ids), Alert.status == AlertStatus.OPEN
        )
    )
    worst: dict[int, str] = {}
    for found_id, severity in rows:
        participant_id = int(found_id or 0)
        rank = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 9
        known = worst.get(participant_id)
        if known is None or rank < SEVERITY_ORDER.index(known):
            worst[participant_id] = severity if rank < 9 else "low"
    return worst


async def _next_confirmations(
    session: AsyncSession, ids: Sequence[int], now: datetime
) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Appointment.participant_id, Appointment.confirmation)
        .where(
            Appointment.participant_id.in_(ids),
            Appointment.status == AppointmentStatus.SCHEDULED,
            Appointment.at > now,
        )
        .order_by(Appointment.at.desc())
    )
    return {participant_id: str(confirmation) for participant_id, confirmation in rows}


async def languages(session: AsyncSession, officer_id: int | None) -> list[str]:
    """The languages of the participants one sees (for the filter)."""
    statement = select(Participant.language).distinct().order_by(Participant.language)
    if officer_id is not None:
        statement = statement.where(
            or_(Participant.officer_id == officer_id, Participant.officer_id.is_(None))
        )
    return [str(language) for language in (await session.scalars(statement)).all()]


async def participant_alerts(session: AsyncSession, participant_id: int) -> Sequence[Alert]:
    """A participant's alerts that are not resolved yet, oldest first."""
    return (
        await session.scalars(
            select(Alert)
            .where(Alert.participant_id == participant_id, Alert.status != AlertStatus.RESOLVED)
            .order_by(Alert.created_at)
        )
    ).all()


async def alert_by_id(session: AsyncSession, alert_id: int) -> Alert | None:
    """One alert."""
    return await session.get(Alert, alert_id)


async def undelivered_replies(
    session: AsyncSession, participant_id: int, since: datetime
) -> Sequence[OutboxItem]:
    """Staff replies to a participant not (yet) delivered: waiting, sending or failed."""
    return (
        await session.scalars(
            select(OutboxItem)
            .where(
                OutboxItem.participant_id == participant_id,
                OutboxItem.kind == "relay",
                OutboxItem.status != OutboxStatus.SENT,
                OutboxItem.created_at >= since,
            )
            .order_by(OutboxItem.id)
        )
    ).all()


async def completed_checkins(
    session: AsyncSession, participant_id: int, since: datetime
) -> Sequence[Checkin]:
    """Answered check-ins since a moment, oldest first (for the mood plot and heat map)."""
    return (
        await session.scalars(
            select(Checkin)
            .where(
                Checkin.participant_id == participant_id,
                Checkin.status == CheckinStatus.COMPLETED,
                Checkin.completed_at.is_not(None),
                Checkin.completed_at >= since,
            )
            .order_by(Checkin.completed_at)
        )
    ).all()


async def change_mark(
    session: AsyncSession, participant_id: int | None, officer_id: int | None
) -> str:
    """A short string that changes when something the open page shows changed: the newest
    message, the alerts and the replies on their way (the page polls it)."""
    alerts = select(func.count(), func.max(Alert.id), func.max(Alert.acknowledged_at)).where(
        Alert.status != AlertStatus.RESOLVED
    )
    if participant_id is not None:
        alerts = alerts.where(Alert.participant_id == participant_id)
        newest = select(func.max(Message.id)).where(Message.participant_id == participant_id)
        pending = select(func.count(), func.max(OutboxItem.id)).where(
            OutboxItem.participant_id == participant_id,
            OutboxItem.kind == "relay",
            OutboxItem.status != OutboxStatus.SENT,
        )
        waiting, last_queued = (await session.execute(pending)).one()
    else:
        if officer_id is not None:
            mine = select(Participant.id).where(
                or_(Participant.officer_id == officer_id, Participant.officer_id.is_(None))
            )
            alerts = alerts.where(Alert.participant_id.in_(mine))
        newest = select(func.max(Message.id)).where(Message.direction == Direction.IN)
        waiting, last_queued = 0, 0
    counted = (await session.execute(alerts)).one()
    latest = await session.scalar(newest)
    return f"{counted[0]}.{counted[1]}.{counted[2]}.{latest}.{waiting}.{last_queued}"


@dataclass(frozen=True)
class TeamRow:
    """One staff member on the team page."""

    staff: Staff
    participants: int
    open_alerts: int


async def team(session: AsyncSession) -> list[TeamRow]:
    """Every staff member (active first) with their caseload size and its open alerts."""
    sizes = {
        officer: count
        for officer, count in await session.execute(
            select(Participant.officer_id, func.count())
            .where(Participant.officer_id.is_not(None))
            .group_by(Participant.officer_id)
        )
    }
    waiting = {
        officer: count
        for officer, count in await session.execute(
            select(Participant.officer_id, func.count())
            .join(Alert, Alert.participant_id == Participant.id)
            .where(Alert.status == AlertStatus.OPEN, Participant.officer_id.is_not(None))
            .group_by(Participant.officer_id)
        )
    }
    members = (await session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.name))).all()
    return [
        TeamRow(member, int(sizes.get(member.id, 0)), int(waiting.get(member.id, 0)))
        for member in members
    ]
