"""`oprit plan show|task add|task done`, `oprit partner add|list` and
`oprit referral add|update|list` and `oprit condition add|list|end|remove`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import AddCommand, calendar_date, group, out, positive_int, table, with_database
from bot.config import Settings
from bot.runtime import Runtime
from bot.services import conditions, due, partners, plan, referrals, reporting
from db.enums import TaskStatus
from db.models import Appointment


def plan_show(settings: Settings, args: argparse.Namespace) -> int:
    """A participant's plan: goals per domain with their tasks."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        return await plan.show(session, args.participant)

    data = asyncio.run(with_database(settings, work))

    def human(d: dict[str, Any]) -> str:
        rows = [task for goal in d["goals"] for task in goal["tasks"]]
        columns = ("id", "domain", "title", "owner", "due", "status")
        return table(rows, columns)

    out(data, args.json, human)
    return 0


def plan_due(settings: Settings, args: argparse.Namespace) -> int:
    """Tasks late or due within a week and referrals waiting, across a caseload."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        scope = await due.scope_of(session, args.officer)
        today = plan.local_today(runtime.clock.now(), settings.tz)
        return due.due_dict(await due.due(session, scope, today))

    data = asyncio.run(with_database(settings, work))

    def human(d: dict[str, Any]) -> str:
        tasks = table(d["tasks"], ("id", "participant_name", "domain", "title", "owner", "due"))
        columns = ("id", "participant_name", "partner_name", "sent_on", "workdays_waiting")
        return tasks + "\n\nreferrals waiting:\n" + table(d["referrals_waiting"], columns)

    out(data, args.json, human)
    return 0


def task_add(settings: Settings, args: argparse.Namespace) -> int:
    """Add a task to a participant's plan."""
    due = calendar_date(args.due, "--due") if args.due else None

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        task = await plan.add_task(
            session,
            args.participant,
            domain=args.domain,
            title=args.title,
            owner=args.owner,
            due=due,
            notes=args.notes,
            now=runtime.clock.now(),
            zone=settings.tz,
        )
        return plan.task_dict(task)

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"task {d['id']} added to the plan")
    return 0


def task_done(settings: Settings, args: argparse.Namespace) -> int:
    """Mark a task done."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        task, changed = await plan.set_status(
            session, args.id, TaskStatus.DONE, now=runtime.clock.now()
        )
        return {**plan.task_dict(task), "changed": changed}

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"task {d['id']} is done")
    return 0


def task_update(settings: Settings, args: argparse.Namespace) -> int:
    """Change a task's title, notes, due date or status."""
    due = calendar_date(args.due, "--due") if args.due else None

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        task = await plan.edit_task(
            session,
            args.id,
            now=runtime.clock.now(),
            zone=settings.tz,
            title=args.title,
            notes=args.notes,
            due=due,
            status=args.status,
        )
        return plan.task_dict(task)

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"task {d['id']} changed")
    return 0


def partner_add(settings: Settings, args: argparse.Namespace) -> int:
    """Add a partner organisation to the directory."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        partner = await partners.add(
            session,
            name=args.name,
            domain=args.domain,
            contact=args.contact,
            reach=args.reach,
            now=runtime.clock.now(),
        )
        return partners.partner_dict(partner)

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"partner {d['id']} added")
    return 0


def partner_list(settings: Settings, args: argparse.Namespace) -> int:
    """The partner directory."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        return [partners.partner_dict(p) for p in await partners.listed(session)]

    rows = asyncio.run(with_database(settings, work))
    out(rows, args.json, lambda r: table(r, ("id", "name", "domain", "contact", "reach")))
    return 0


def referral_add(settings: Settings, args: argparse.Namespace) -> int:
    """Record a referral of a participant to a partner."""
    sent = calendar_date(args.sent, "--sent") if args.sent else None

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        referral = await referrals.add(
            session,
            args.participant,
            args.partner,
            now=runtime.clock.now(),
            zone=settings.tz,
            note=args.note,
            sent_on=sent,
            introduce=args.introduce,
        )
        return {**referrals.referral_dict(referral), "introduced": args.introduce}

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"referral {d['id']} recorded as sent on {d['sent_on']}")
    return 0


def referral_update(settings: Settings, args: argparse.Namespace) -> int:
    """Move a referral to its next step."""
    on = calendar_date(args.on, "--on") if args.on else None

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        referral = await referrals.update(
            session,
            args.id,
            referrals.parse_status(args.status),
            now=runtime.clock.now(),
            zone=settings.tz,
            outcome=args.outcome,
            on=on,
        )
        return referrals.referral_dict(referral)

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"referral {d['id']} is now {d['status']}")
    return 0


def referral_list(settings: Settings, args: argparse.Namespace) -> int:
    """Referrals, of one participant or all; --waiting: only those without first contact."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        found = await referrals.listed(session, args.participant, args.waiting)
        return [referrals.referral_dict(referral) for referral in found]

    rows = asyncio.run(with_database(settings, work))
    columns = ("id", "participant", "partner", "status", "sent_on", "first_contact_on")
    out(rows, args.json, lambda r: table(r, columns))
    return 0


def condition_add(settings: Settings, args: argparse.Namespace) -> int:
    """Record a special condition of the court or probation; a reporting duty with
    --weekday/--time/--report-to also gets its recurring appointments."""
    starts = calendar_date(args.starts, "--from") if args.starts else None
    ends = calendar_date(args.ends, "--until") if args.ends else None

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        schedule = reporting.parse_schedule(
            weekday=args.weekday,
            at=args.time,
            every_weeks=args.every_weeks,
            with_org=args.report_to,
            place=args.place,
        )
        condition, made = await conditions.add(
            session,
            args.participant,
            kind=args.kind,
            text=args.text,
            imposed_by=args.by,
            starts_on=starts,
            ends_on=ends,
            now=runtime.clock.now(),
            schedule=schedule,
            zone=settings.tz,
            offsets=settings.reminder_offsets,
        )
        return {**conditions.condition_dict(condition), "appointments": _moments(made)}

    data = asyncio.run(with_database(settings, work))
    out(
        data,
        args.json,
        lambda d: f"condition {d['id']} recorded with {len(d['appointments'])} appointments",
    )
    return 0


def _moments(made: list[Appointment]) -> list[dict[str, Any]]:
    return [{"id": a.id, "at": a.at.isoformat()} for a in made]


def condition_end(settings: Settings, args: argparse.Namespace) -> int:
    """End a condition on a day (default today); its later appointments are cancelled."""
    on = calendar_date(args.on, "--on") if args.on else None

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        condition, cancelled = await conditions.end(
            session, args.id, on=on, now=runtime.clock.now(), zone=settings.tz
        )
        return {**conditions.condition_dict(condition), "cancelled": _moments(cancelled)}

    data = asyncio.run(with_database(settings, work))
    out(
        data,
        args.json,
        lambda d: (
            f"condition {d['id']} ends on {d['ends_on']}; "
            f"{len(d['cancelled'])} appointments cancelled"
        ),
    )
    return 0


def condition_remove(settings: Settings, args: argparse.Namespace) -> int:
    """Delete a condition; its appointments still ahead are cancelled."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        cancelled = await conditions.remove(
            session, args.id, now=runtime.clock.now(), zone=settings.tz
        )
        return {"id": args.id, "removed": True, "cancelled": _moments(cancelled)}

    data = asyncio.run(with_database(settings, work))
    out(
        data,
        args.json,
        lambda d: f"condition {d['id']} removed; {len(d['cancelled'])} appointments cancelled",
    )
    return 0


def condition_list(settings: Settings, args: argparse.Namespace) -> int:
    """A participant's special conditions."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        found = await conditions.listed(session, args.participant)
        return [conditions.condition_dict(condition) for condition in found]

    rows = asyncio.run(with_database(settings, work))
    out(rows, args.json, lambda r: table(r, ("id", "kind", "text", "starts_on", "ends_on")))
    return 0


def register(commands: Any, command: AddCommand) -> None:
    """`oprit plan ...`, `oprit partner ...`, `oprit referral ...`, `oprit condition ...`."""
    plans = group(commands, "plan", "a participant's plan on the life domains")
    show = command(plans, "show", plan_show, "show a participant's plan")
    show.add_argument("--participant", type=positive_int, required=True)
    plan_due_command = command(
        plans, "due", plan_due, "tasks late or due within a week, referrals waiting"
    )
    plan_due_command.add_argument(
        "--officer", type=positive_int, metavar="TELEGRAM_ID", help="only this officer's caseload"
    )
    tasks = group(plans, "task", "tasks of a plan")
    add = command(tasks, "add", task_add, "add a task to a participant's plan")
    add.add_argument("--participant", type=positive_int, required=True)
    add.add_argument("--domain", required=True, help=", ".join(plan.DOMAINS))
    add.add_argument("--title", required=True)
    add.add_argument("--owner", required=True, help="participant, officer or partner:ID")
    add.add_argument("--due", metavar="YYYY-MM-DD")
    add.add_argument("--notes")
    done = command(tasks, "done", task_done, "mark a task done")
    done.add_argument("id", type=positive_int)
    update = command(tasks, "update", task_update, "change a task's title, notes, date or status")
    update.add_argument("id", type=positive_int)
    update.add_argument("--title")
    update.add_argument("--notes")
    update.add_argument("--due", metavar="YYYY-MM-DD")
    update.add_argument("--status", help="open, done, blocked or dropped")

    partner = group(commands, "partner", "the directory of partner organisations")
    padd = command(partner, "add", partner_add, "add a partner organisation")
    padd.add_argument("--name", required=True)
    padd.add_argument("--domain", required=True, help=", ".join(plan.DOMAINS))
    padd.add_argument("--contact", help="the contact person")
    padd.add_argument("--reach", help="how to reach them (phone, e-mail)")
    command(partner, "list", partner_list, "list the partner organisations")

    referral = group(commands, "referral", "referrals of participants to partners")
    radd = command(referral, "add", referral_add, "record a referral to a partner")
    radd.add_argument("--participant", type=positive_int, required=True)
    radd.add_argument("--partner", type=positive_int, required=True)
    radd.add_argument("--note")
    radd.add_argument("--sent", metavar="YYYY-MM-DD", help="when it was sent (default today)")
    radd.add_argument(
        "--introduce",
        action="store_true",
        help="send the participant a warm introduction to the partner's contact person",
    )
    rupdate = command(referral, "update", referral_update, "move a referral to its next step")
    rupdate.add_argument("id", type=positive_int)
    rupdate.add_argument(
        "--status", required=True, help="accepted, first-contact, closed, declined"
    )
    rupdate.add_argument("--outcome")
    rupdate.add_argument("--on", metavar="YYYY-MM-DD", help="when it happened (default today)")
    rlist = command(referral, "list", referral_list, "list referrals")
    rlist.add_argument("--participant", type=positive_int)
    rlist.add_argument("--waiting", action="store_true", help="only those without first contact")

    condition = group(commands, "condition", "special conditions of the court or probation")
    cadd = command(condition, "add", condition_add, "record a special condition")
    cadd.add_argument("--participant", type=positive_int, required=True)
    cadd.add_argument("--kind", required=True, help=", ".join(conditions.KINDS))
    cadd.add_argument("--text", required=True, help="what the condition says")
    cadd.add_argument("--by", help="who set it (court, probation)")
    cadd.add_argument("--from", dest="starts", metavar="YYYY-MM-DD")
    cadd.add_argument("--until", dest="ends", metavar="YYYY-MM-DD")
    cadd.add_argument("--weekday", help="reporting duty: the day, " + ", ".join(reporting.WEEKDAYS))
    cadd.add_argument("--time", help="reporting duty: the local time, like 10:00")
    cadd.add_argument("--every-weeks", type=int, help="reporting duty: every N weeks (default 1)")
    cadd.add_argument("--report-to", help="reporting duty: with whom, e.g. Reclassering")
    cadd.add_argument("--place", help="reporting duty: where")
    clist = command(condition, "list", condition_list, "list a participant's conditions")
    clist.add_argument("--participant", type=positive_int, required=True)
    cend = command(condition, "end", condition_end, "end a condition; cancels later appointments")
    cend.add_argument("id", type=positive_int)
    cend.add_argument("--on", metavar="YYYY-MM-DD", help="its last day (default today)")
    cremove = command(
        condition, "remove", condition_remove, "delete a condition; cancels its appointments ahead"
    )
    cremove.add_argument("id", type=positive_int)
