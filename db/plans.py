"""Queries about the plan: tasks, partners, and the participants whose release is near."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AppointmentStatus, ParticipantStatus, ReferralStatus, TaskOwner, TaskStatus
from db.models import Appointment, Condition, Invite, Participant, Partner, PlanTask, Referral

# Statuses a task can still move from (a blocked task is still the participant's worry).
UNFINISHED = (TaskStatus.OPEN, TaskStatus.BLOCKED)


async def tasks_of(session: AsyncSession, participant_id: int) -> Sequence[PlanTask]:
    """A participant's whole plan: by domain, then the earliest due first (no date last)."""
    return (
        await session.scalars(
            select(PlanTask)
            .where(PlanTask.participant_id == participant_id)
            .order_by(
                PlanTask.domain,
                case((PlanTask.due_on.is_(None), 1), else_=0),
                PlanTask.due_on,
                PlanTask.id,
            )
        )
    ).all()


async def open_tasks_for_participant(
    session: AsyncSession, participant_id: int
) -> Sequence[PlanTask]:
    """The unfinished tasks the participant does themselves, due first (no date last)."""
    return (
        await session.scalars(
            select(PlanTask)
            .where(
                PlanTask.participant_id == participant_id,
                PlanTask.owner == TaskOwner.PARTICIPANT,
                PlanTask.status.in_(UNFINISHED),
            )
            .order_by(case((PlanTask.due_on.is_(None), 1), else_=0), PlanTask.due_on, PlanTask.id)
        )
    ).all()


async def task_by_id(session: AsyncSession, task_id: int) -> PlanTask | None:
    """One task."""
    return await session.get(PlanTask, task_id)


async def partner_by_id(session: AsyncSession, partner_id: int) -> Partner | None:
    """One partner organisation."""
    return await session.get(Partner, partner_id)


async def all_partners(session: AsyncSession) -> Sequence[Partner]:
    """The partner directory, by name."""
    return (await session.scalars(select(Partner).order_by(Partner.name, Partner.id))).all()


async def retire_open_invites(session: AsyncSession, participant_id: int, now: datetime) -> None:
    """A new invite for an enrolled participant makes their older unused ones expire: only
    the newest letter works."""
    await session.execute(
        update(Invite)
        .where(
            Invite.participant_id == participant_id,
            Invite.used_at.is_(None),
            Invite.expires_at > now,
        )
        .values(expires_at=now)
    )


async def released_on(session: AsyncSession, day: date) -> Sequence[Participant]:
    """Participants whose release date is `day`."""
    return (
        await session.scalars(
            select(Participant).where(Participant.release_date == day).order_by(Participant.id)
        )
    ).all()


async def claim_release_reminder(session: AsyncSession, participant_id: int, now: datetime) -> bool:
    """Mark the officer's day-before reminder sent, once: False when it already was."""
    result = await session.execute(
        update(Participant)
        .where(Participant.id == participant_id, Participant.release_reminded_at.is_(None))
        .values(release_reminded_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def claim_release_greeting(session: AsyncSession, participant_id: int, now: datetime) -> bool:
    """Mark the participant's release-morning greeting sent, once."""
    result = await session.execute(
        update(Participant)
        .where(
            Participant.id == participant_id,
            Participant.release_greeted_at.is_(None),
            Participant.status == ParticipantStatus.ACTIVE,
        )
        .values(release_greeted_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def tasks_due_on(
    session: AsyncSession, day: date, owners: Sequence[TaskOwner]
) -> Sequence[PlanTask]:
    """Open tasks of these owners, due on `day`, not reminded yet."""
    return (
        await session.scalars(
            select(PlanTask)
            .where(
                PlanTask.status == TaskStatus.OPEN,
                PlanTask.due_on == day,
                PlanTask.owner.in_(owners),
                PlanTask.reminded_at.is_(None),
            )
            .order_by(PlanTask.id)
        )
    ).all()


async def tasks_overdue(session: AsyncSession, due_by: date) -> Sequence[PlanTask]:
    """Open tasks of any owner due on or before `due_by`, not alerted yet."""
    return (
        await session.scalars(
            select(PlanTask)
            .where(
                PlanTask.status == TaskStatus.OPEN,
                PlanTask.due_on <= due_by,
                PlanTask.overdue_alerted_at.is_(None),
            )
            .order_by(PlanTask.id)
        )
    ).all()


async def claim_task_reminder(session: AsyncSession, task_id: int, now: datetime) -> bool:
    """Mark a task's reminder sent, once."""
    result = await session.execute(
        update(PlanTask)
        .where(PlanTask.id == task_id, PlanTask.reminded_at.is_(None))
        .values(reminded_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def claim_overdue_alert(session: AsyncSession, task_id: int, now: datetime) -> bool:
    """Mark a task's overdue alert raised, once."""
    result = await session.execute(
        update(PlanTask)
        .where(PlanTask.id == task_id, PlanTask.overdue_alerted_at.is_(None))
        .values(overdue_alerted_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# Referrals still waiting on the partner's first contact.
WAITING = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)


async def referrals(
    session: AsyncSession, participant_id: int | None, waiting_only: bool
) -> Sequence[Referral]:
    """Referrals (of one participant, or all), oldest sent first."""
    statement = select(Referral).order_by(Referral.sent_on, Referral.id)
    if participant_id is not None:
        statement = statement.where(Referral.participant_id == participant_id)
    if waiting_only:
        statement = statement.where(Referral.status.in_(WAITING))
    return (await session.scalars(statement)).all()


async def stale_referrals(session: AsyncSession, sent_by: date) -> Sequence[Referral]:
    """Referrals sent on or before `sent_by`, still without first contact, not alerted."""
    return (
        await session.scalars(
            select(Referral)
            .where(
                Referral.status.in_(WAITING),
                Referral.sent_on <= sent_by,
                Referral.stale_alerted_at.is_(None),
            )
            .order_by(Referral.id)
        )
    ).all()


async def claim_stale_alert(session: AsyncSession, referral_id: int, now: datetime) -> bool:
    """Mark a referral's no-first-contact alert raised, once."""
    result = await session.execute(
        update(Referral)
        .where(Referral.id == referral_id, Referral.stale_alerted_at.is_(None))
        .values(stale_alerted_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def conditions_of(session: AsyncSession, participant_id: int) -> Sequence[Condition]:
    """A participant's special conditions, in the order they were recorded."""
    return (
        await session.scalars(
            select(Condition)
            .where(Condition.participant_id == participant_id)
            .order_by(Condition.id)
        )
    ).all()


async def condition_by_id(session: AsyncSession, condition_id: int) -> Condition | None:
    """One condition."""
    return await session.get(Condition, condition_id)


async def planned_series(
    session: AsyncSession, condition_id: int, after: datetime
) -> Sequence[Appointment]:
    """A reporting duty's appointments still planned after `after`, earliest first."""
    return (
        await session.scalars(
            select(Appointment)
            .where(
                Appointment.condition_id == condition_id,
                Appointment.status == AppointmentStatus.SCHEDULED,
                Appointment.at > after,
            )
            .order_by(Appointment.at, Appointment.id)
        )
    ).all()


def _in_scope(officer_id: int | None) -> Any:
    """Participants an officer sees: their own and those without an officer (None: all)."""
    if officer_id is None:
        return true()
    return or_(Participant.officer_id == officer_id, Participant.officer_id.is_(None))


async def caseload_tasks_due(
    session: AsyncSession, due_by: date, officer_id: int | None
) -> Sequence[tuple[PlanTask, Participant]]:
    """Unfinished tasks due on or before `due_by` in a caseload (None: everyone's), the
    longest overdue first."""
    rows = await session.execute(
        select(PlanTask, Participant)
        .join(Participant, Participant.id == PlanTask.participant_id)
        .where(PlanTask.status.in_(UNFINISHED), PlanTask.due_on <= due_by, _in_scope(officer_id))
        .order_by(PlanTask.due_on, PlanTask.id)
    )
    return [(task, participant) for task, participant in rows]


async def caseload_referrals_waiting(
    session: AsyncSession, officer_id: int | None
) -> Sequence[tuple[Referral, Participant]]:
    """Referrals still waiting on the partner's first contact in a caseload, oldest first."""
    rows = await session.execute(
        select(Referral, Participant)
        .join(Participant, Participant.id == Referral.participant_id)
        .where(Referral.status.in_(WAITING), _in_scope(officer_id))
        .order_by(Referral.sent_on, Referral.id)
    )
    return [(referral, participant) for referral, participant in rows]


async def tasks_done_since(session: AsyncSession, since: datetime) -> Sequence[PlanTask]:
    """Tasks of any owner marked done at or after `since`, by participant."""
    return (
        await session.scalars(
            select(PlanTask)
            .where(PlanTask.status == TaskStatus.DONE, PlanTask.done_at >= since)
            .order_by(PlanTask.participant_id, PlanTask.done_at, PlanTask.id)
        )
    ).all()


async def participant_tasks_due_by(session: AsyncSession, due_by: date) -> Sequence[PlanTask]:
    """Unfinished tasks participants do themselves, due on or before `due_by`, due first."""
    return (
        await session.scalars(
            select(PlanTask)
            .where(
                PlanTask.owner == TaskOwner.PARTICIPANT,
                PlanTask.status.in_(UNFINISHED),
                PlanTask.due_on <= due_by,
            )
            .order_by(PlanTask.participant_id, PlanTask.due_on, PlanTask.id)
        )
    ).all()
