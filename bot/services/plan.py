"""The plan: per participant, tasks on the life domains (what, whose, by when, how far).

The officer's way of working (the municipality's RIO method) is to see what blocks a person
on housing, work, money, care, paperwork and justice, and to make sure somebody does
something about each block. A task is that something. A default release checklist is
proposed at enrolment; its tasks carry a `template` key so each reader sees them in their
own language, while the officer's own tasks are shown as written.

Text a person typed is checked before anything is stored: too long, empty, control
characters or direction overrides (which could make a title read backwards in the
officer's chat) give one clear sentence and change nothing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.choices import choice_id
from bot.conversation.replies import Choice, Reply
from bot.i18n import _, day_label
from bot.services.labels import domain_label
from db import audit, people
from db import plans as plans_db
from db.enums import PlanDomain, TaskOwner, TaskStatus
from db.models import Participant, PlanTask

# The participant's plan flow (bot.flows.plan); its buttons also come with every task
# reminder, so they are made here.
FLOW_ID = "pl"
MAX_TITLE = 200
MAX_NOTES = 2000
DOMAINS = tuple(domain.value for domain in PlanDomain)
# Direction marks and overrides: stored text must read the same for everyone.
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class PlanError(ValueError):
    """A plan change that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class ChecklistItem:
    """One task of the default release checklist: days after release it is due."""

    key: str
    domain: PlanDomain
    owner: TaskOwner
    days_after_release: int


# The default release checklist (issue 19): proposed at enrolment, editable afterwards.
CHECKLIST = (
    ChecklistItem("valid_id", PlanDomain.PAPERWORK, TaskOwner.PARTICIPANT, 7),
    ChecklistItem("address", PlanDomain.HOUSING, TaskOwner.PARTICIPANT, 3),
    ChecklistItem("bank_account", PlanDomain.MONEY, TaskOwner.PARTICIPANT, 14),
    ChecklistItem("income", PlanDomain.WORK, TaskOwner.PARTICIPANT, 7),
    ChecklistItem("health_insurance", PlanDomain.CARE, TaskOwner.PARTICIPANT, 7),
    ChecklistItem("gp", PlanDomain.CARE, TaskOwner.PARTICIPANT, 30),
    ChecklistItem("debt_overview", PlanDomain.MONEY, TaskOwner.OFFICER, 30),
    ChecklistItem("probation", PlanDomain.JUSTICE, TaskOwner.OFFICER, 3),
)
_TEMPLATE_ENGLISH = {
    "valid_id": "Get a valid ID card or passport",
    "address": "Register your address with the municipality",
    "bank_account": "Open a bank account",
    "income": "Apply for benefits or income",
    "health_insurance": "Get health insurance",
    "gp": "Register with a GP (family doctor)",
    "debt_overview": "Make an overview of debts",
    "probation": "First appointment with probation",
}


def template_title(key: str) -> str:
    """A checklist task's title in the current language."""
    titles = {
        "valid_id": _("Get a valid ID card or passport"),
        "address": _("Register your address with the municipality"),
        "bank_account": _("Open a bank account"),
        "income": _("Apply for benefits or income"),
        "health_insurance": _("Get health insurance"),
        # Translators: GP = huisarts, the family doctor
        "gp": _("Register with a GP (family doctor)"),
        "debt_overview": _("Make an overview of debts"),
        # Translators: probation = reclassering
        "probation": _("First appointment with probation"),
    }
    return titles.get(key, _TEMPLATE_ENGLISH.get(key, key))


def title_of(task: PlanTask) -> str:
    """What a task is called, in the current language when it is a checklist task."""
    return template_title(task.template) if task.template else task.title


def checked_text(value: str | None, what: str, limit: int, *, required: bool) -> str | None:
    """Text that is safe to keep and show, or a PlanError saying what is wrong with it."""
    if value is None or not value.strip():
        if required:
            raise PlanError(f"{what} is empty")
        return None
    if len(value) > limit:
        raise PlanError(f"{what} is longer than {limit} characters")
    for char in value:
        if char in _BIDI_CONTROLS:
            raise PlanError(f"{what} contains a text-direction control character")
        if unicodedata.category(char) in ("Cc", "Cs") and char not in "\n\t":
            raise PlanError(f"{what} contains a control character")
    return value.strip()


def local_today(now: datetime, zone: tzinfo) -> date:
    """The date it is where the officer works."""
    return now.astimezone(zone).date()


def parse_owner(owner: str) -> tuple[TaskOwner, int | None]:
    """`participant`, `officer` or `partner:ID`."""
    kind, _sep, partner = owner.strip().partition(":")
    if kind == TaskOwner.PARTNER and partner.isdigit():
        return TaskOwner.PARTNER, int(partner)
    if not partner and kind in (TaskOwner.PARTICIPANT, TaskOwner.OFFICER):
        return TaskOwner(kind), None
    raise PlanError(f"unknown owner {owner[:40]!r}; use participant, officer or partner:ID")


async def _participant(session: AsyncSession, participant_id: int) -> Participant:
    participant = await people.participant_by_id(session, participant_id)
    if participant is None:
        raise PlanError(f"no participant with id {participant_id}")
    return participant


async def add_task(
    session: AsyncSession,
    participant_id: int,
    *,
    domain: str,
    title: str,
    owner: str,
    due: date | None,
    now: datetime,
    zone: tzinfo,
    notes: str | None = None,
    actor: str = "cli",
    actor_telegram_id: int | None = None,
) -> PlanTask:
    """Add a task to a participant's plan; every check runs before anything is written."""
    participant = await _participant(session, participant_id)
    if domain not in DOMAINS:
        raise PlanError(f"unknown domain {domain[:40]!r}; use one of {', '.join(DOMAINS)}")
    kept_title = checked_text(title, "the title", MAX_TITLE, required=True)
    kept_notes = checked_text(notes, "the notes", MAX_NOTES, required=False)
    owner_kind, partner_id = parse_owner(owner)
    if partner_id is not None and await plans_db.partner_by_id(session, partner_id) is None:
        raise PlanError(f"no partner with id {partner_id}; see 'oprit partner list'")
    if due is not None and due < local_today(now, zone):
        raise PlanError("the due date is in the past")
    task = PlanTask(
        participant_id=participant.id,
        domain=domain,
        title=kept_title or "",
        owner=owner_kind,
        partner_id=partner_id,
        due_on=due,
        status=TaskStatus.OPEN,
        notes=kept_notes,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    await session.flush()
    audit.add(
        session,
        "plan_task_added",
        actor=actor,
        actor_telegram_id=actor_telegram_id,
        participant_id=participant.id,
        detail={"task_id": task.id},
        at=now,
    )
    return task


def add_checklist(
    session: AsyncSession, participant: Participant, release: date, now: datetime
) -> int:
    """Propose the default release checklist; returns how many tasks it added."""
    for item in CHECKLIST:
        session.add(
            PlanTask(
                participant_id=participant.id,
                domain=item.domain,
                title=_TEMPLATE_ENGLISH[item.key],
                template=item.key,
                owner=item.owner,
                due_on=release + timedelta(days=item.days_after_release),
                status=TaskStatus.OPEN,
                created_at=now,
                updated_at=now,
            )
        )
    return len(CHECKLIST)


async def set_status(
    session: AsyncSession,
    task_id: int,
    status: TaskStatus,
    *,
    now: datetime,
    actor: str = "cli",
    actor_telegram_id: int | None = None,
) -> tuple[PlanTask, bool]:
    """Move a task to a status; returns the task and whether it changed (marking a done
    task done again changes nothing and is no error: a double tap is common)."""
    task = await plans_db.task_by_id(session, task_id)
    if task is None:
        raise PlanError(f"no plan task with id {task_id}")
    if task.status == status:
        return task, False
    task.status = status
    task.updated_at = now
    task.done_at = now if status == TaskStatus.DONE else None
    audit.add(
        session,
        "plan_task_status",
        actor=actor,
        actor_telegram_id=actor_telegram_id,
        participant_id=task.participant_id,
        detail={"task_id": task.id, "status": str(status)},
        at=now,
    )
    return task, True


def parse_status(value: str) -> TaskStatus:
    """A task status as typed."""
    try:
        return TaskStatus(value.strip())
    except ValueError:
        choices = ", ".join(status.value for status in TaskStatus)
        raise PlanError(f"unknown status {value[:40]!r}; use {choices}") from None


async def edit_task(
    session: AsyncSession,
    task_id: int,
    *,
    now: datetime,
    zone: tzinfo,
    title: str | None = None,
    notes: str | None = None,
    due: date | None = None,
    status: str | None = None,
) -> PlanTask:
    """Change what the officer gives (every check before anything changes); an edited
    checklist title becomes the officer's own text."""
    task = await plans_db.task_by_id(session, task_id)
    if task is None:
        raise PlanError(f"no plan task with id {task_id}")
    kept_title = (
        checked_text(title, "the title", MAX_TITLE, required=True) if title is not None else None
    )
    kept_notes = checked_text(notes, "the notes", MAX_NOTES, required=False)
    new_status = parse_status(status) if status is not None else None
    if due is not None and due < local_today(now, zone):
        raise PlanError("the due date is in the past")
    if kept_title is not None:
        task.title, task.template = kept_title, None
    if kept_notes is not None:
        task.notes = kept_notes
    if due is not None:
        task.due_on, task.reminded_at, task.overdue_alerted_at = due, None, None
    task.updated_at = now
    if new_status is not None:
        await set_status(session, task.id, new_status, now=now)
    audit.add(
        session, "plan_task_edited", actor="cli", participant_id=task.participant_id,
        detail={"task_id": task.id}, at=now,
    )  # fmt: skip
    return task


def task_dict(task: PlanTask) -> dict[str, Any]:
    """A task for `oprit plan show --json` and the export."""
    return {
        "id": task.id,
        "domain": task.domain,
        "title": task.title,
        "template": task.template,
        "owner": f"partner:{task.partner_id}" if task.owner == TaskOwner.PARTNER else task.owner,
        "due": task.due_on.isoformat() if task.due_on else None,
        "status": task.status,
        "notes": task.notes,
        "created_at": task.created_at.isoformat(),
        "done_at": task.done_at.isoformat() if task.done_at else None,
    }


async def show(session: AsyncSession, participant_id: int) -> dict[str, Any]:
    """A participant's plan as goals per domain with their tasks."""
    participant = await _participant(session, participant_id)
    tasks = await plans_db.tasks_of(session, participant.id)
    goals = [
        {"domain": domain, "tasks": [task_dict(t) for t in tasks if t.domain == domain]}
        for domain in DOMAINS
    ]
    return {
        "participant": participant.id,
        "status": participant.status,
        "release_date": participant.release_date.isoformat() if participant.release_date else None,
        "goals": [goal for goal in goals if goal["tasks"]],
    }


def task_line(task: PlanTask, zone: tzinfo, today: date) -> str:
    """One task as a participant reads it: domain, title, and when it is due."""
    line = f"{domain_label(task.domain).split(' ', 1)[0]} {title_of(task)}"
    if task.due_on is None:
        return line
    if task.due_on < today:
        # Translators: after a task title; the date it should have been done
        return line + " " + _("(was due {date})").format(date=day_label(task.due_on))
    # Translators: after a task title; the date it should be done
    return line + " " + _("(before {date})").format(date=day_label(task.due_on))


def task_reply(task: PlanTask, zone: tzinfo, today: date, head: str | None = None) -> Reply:
    """One of the participant's tasks (under `head`, if given) with *Done* and *I need
    help with this*; the task id is the token the signed buttons carry."""
    token = str(task.id)
    line = task_line(task, zone, today)
    return Reply(
        f"{head}\n{line}" if head else line,
        [
            [Choice(choice_id(FLOW_ID, token, "done"), _("✅ Done"))],
            [Choice(choice_id(FLOW_ID, token, "help"), _("🙋 I need help with this"))],
        ],
    )
