"""What is due across a caseload: the plan tasks that are late or due within DUE_AHEAD_DAYS,
and the referrals still waiting on the partner's first contact.

Staff read it with /tasks in the chat, on the dashboard's Tasks page and with `oprit plan
due`; an officer sees their own participants (and those without an officer), coordinators
and backup officers everyone (the same scope as every staff view).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, day_label, ngettext
from bot.services import plan
from bot.services.access import officer_scope
from bot.services.labels import domain_label, task_status_label
from bot.services.plan import PlanError
from db import audit, people
from db import plans as plans_db
from db.enums import TaskOwner
from db.models import Participant, PlanTask, Referral, Staff

DUE_AHEAD_DAYS = 7
MAX_LINES = 40  # in the chat; the dashboard and the CLI show everything


@dataclass(frozen=True)
class DueTask:
    """A task that is late or due soon, with whose plan it is in."""

    task: PlanTask
    participant: Participant
    partner: str | None  # the partner who owns it, if one does
    days_late: int  # negative: due in that many days


@dataclass(frozen=True)
class WaitingReferral:
    """A referral without first contact, and how many working days it has waited."""

    referral: Referral
    participant: Participant
    partner: str
    workdays: int


@dataclass(frozen=True)
class Due:
    """Everything due in one caseload on one day."""

    today: date
    tasks: list[DueTask]
    referrals: list[WaitingReferral]


def workdays_between(start: date, end: date) -> int:
    """Monday–Friday days after `start` up to and including `end`."""
    days = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        days += day.weekday() < 5
    return days


async def due(session: AsyncSession, officer_id: int | None, today: date) -> Due:
    """The caseload's due and late tasks and waiting referrals (officer_id None: all)."""
    partners = {p.id: p.name for p in await plans_db.all_partners(session)}
    horizon = today + timedelta(days=DUE_AHEAD_DAYS)
    tasks = [
        DueTask(
            task,
            participant,
            partners.get(task.partner_id) if task.partner_id is not None else None,
            (today - task.due_on).days if task.due_on else 0,
        )
        for task, participant in await plans_db.caseload_tasks_due(session, horizon, officer_id)
    ]
    referrals = [
        WaitingReferral(
            referral,
            participant,
            partners.get(referral.partner_id, "?"),
            workdays_between(referral.sent_on, today),
        )
        for referral, participant in await plans_db.caseload_referrals_waiting(session, officer_id)
    ]
    return Due(today, tasks, referrals)


def due_dict(found: Due) -> dict[str, Any]:
    """For `oprit plan due --json`."""
    return {
        "today": found.today.isoformat(),
        "tasks": [
            {
                **plan.task_dict(item.task),
                "participant_name": item.participant.name,
                "partner_name": item.partner,
                "days_late": item.days_late,
            }
            for item in found.tasks
        ],
        "referrals_waiting": [
            {
                "id": item.referral.id,
                "participant": item.participant.id,
                "participant_name": item.participant.name,
                "partner": item.referral.partner_id,
                "partner_name": item.partner,
                "status": item.referral.status,
                "sent_on": item.referral.sent_on.isoformat(),
                "workdays_waiting": item.workdays,
            }
            for item in found.referrals
        ],
    }


def owner_label(item: DueTask) -> str:
    """Who does the task, as staff read it."""
    if item.task.owner == TaskOwner.PARTNER:
        return item.partner or _("partner")
    if item.task.owner == TaskOwner.OFFICER:
        # Translators: the owner of a plan task: the officer (you)
        return _("officer")
    return _("participant")


def when_label(item: DueTask) -> str:
    """How late a task is, or when it is due."""
    if item.days_late > 0:
        return ngettext("{count} day late", "{count} days late", item.days_late).format(
            count=item.days_late
        )
    if item.days_late == 0:
        return _("due today")
    assert item.task.due_on is not None
    return _("due {date}").format(date=day_label(item.task.due_on))


def waiting_label(item: WaitingReferral) -> str:
    """How long a referral has waited on the partner."""
    return ngettext(
        "waiting {count} working day", "waiting {count} working days", item.workdays
    ).format(count=item.workdays)


def chat_text(found: Due) -> str:
    """The /tasks answer, in the current language."""
    if not found.tasks and not found.referrals:
        return _("Nothing is due in the next week, and no referral is waiting. 👍")
    lines = []
    if found.tasks:
        lines.append(_("📋 Tasks late or due within a week:"))
        for item in found.tasks[:MAX_LINES]:
            mark = "🔴" if item.days_late > 0 else "🟡"
            lines.append(
                f"{mark} #{item.participant.id} {item.participant.name} · "
                f"{domain_label(item.task.domain)}: {plan.title_of(item.task)} · "
                f"{owner_label(item)} · {when_label(item)} · "
                f"{task_status_label(item.task.status)}"
            )
        if len(found.tasks) > MAX_LINES:
            lines.append(
                _("… and {count} more on the dashboard.").format(count=len(found.tasks) - MAX_LINES)
            )
    if found.referrals:
        lines.append("")
        lines.append(_("🤝 Referrals waiting on the partner:"))
        for waiting in found.referrals[:MAX_LINES]:
            lines.append(
                f"#{waiting.participant.id} {waiting.participant.name} · {waiting.partner} · "
                f"{waiting_label(waiting)}"
            )
        if len(found.referrals) > MAX_LINES:
            lines.append(
                _("… and {count} more on the dashboard.").format(
                    count=len(found.referrals) - MAX_LINES
                )
            )
    return "\n".join(lines)


async def scope_of(session: AsyncSession, telegram_id: int | None) -> int | None:
    """Whose caseload `--officer TELEGRAM_ID` means: an officer's own (None: everyone's, for
    no --officer, a coordinator or a backup officer)."""
    if telegram_id is None:
        return None
    staff = await people.staff_by_telegram_id(session, telegram_id)
    if staff is None or not staff.active:
        raise PlanError(f"no staff member with Telegram id {telegram_id}")
    return officer_scope(staff)


def audit_view(session: AsyncSession, staff: Staff, found: Due, via: str, at: datetime) -> None:
    """A staff read across participants is audited (ids and counts only)."""
    audit.add(
        session,
        "due_viewed",
        actor="staff",
        actor_telegram_id=staff.telegram_id,
        detail={"via": via, "tasks": len(found.tasks), "referrals": len(found.referrals)},
        at=at,
    )
