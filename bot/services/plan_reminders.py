"""Time-driven work of the plan: the reminder the day before a task is due, and the
officer's alert when a task is OVERDUE_DAYS overdue.

A participant's own task reminds the participant; the officer's own task, and a partner's
task the officer must chase, remind the officer. Every overdue task alerts the officer,
whoever owns it. Each task is reminded and alerted on once (claimed in the database), so a
restart or a second worker never repeats it.

Once a week (OVERVIEW_SCHEDULE) each active participant with something to say gets a short
overview of what moved in their plan.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, time, timedelta, tzinfo

from bot.config import CheckinSchedule
from bot.conversation import outbox
from bot.conversation.replies import Reply
from bot.i18n import _, ngettext, use_language
from bot.runtime import Tx
from bot.services import alerts, plan, safety, staff_alerts
from db import checkins as checkins_db
from db import people
from db import plans as plans_db
from db.enums import AlertKind, ParticipantStatus, TaskOwner
from db.models import Participant, PlanTask

log = logging.getLogger(__name__)

REMINDER_HOUR = 10  # local time: the day before the task is due
OVERDUE_DAYS = 3
STAFF_OWNERS = (TaskOwner.OFFICER, TaskOwner.PARTNER)


async def remind_due_tomorrow(tx: Tx) -> int:
    """Queue the reminders for tasks due tomorrow; returns how many."""
    session, now, zone = tx.session, tx.now, tx.settings.tz
    local = now.astimezone(zone)
    if local.hour < REMINDER_HOUR:
        return 0
    today = local.date()
    tomorrow = today + timedelta(days=1)
    queued = 0
    for task in await plans_db.tasks_due_on(session, tomorrow, (TaskOwner.PARTICIPANT,)):
        participant = await people.participant_by_id(session, task.participant_id)
        if participant is None or participant.status != ParticipantStatus.ACTIVE:
            continue
        if not await plans_db.claim_task_reminder(session, task.id, now):
            continue
        with use_language(participant.language):
            reply = plan.task_reply(task, zone, today, _("⏰ Reminder: this is due tomorrow."))
        queued += outbox.to_participant(
            session,
            participant,
            [reply],
            now=now,
            kind="reminder",
            priority=outbox.PRIORITY_REMINDER,
        )
    for task in await plans_db.tasks_due_on(session, tomorrow, STAFF_OWNERS):
        queued += await _remind_staff(tx, task)
    if queued:
        log.info("plan task reminders queued", extra={"count": queued})
    return queued


async def _remind_staff(tx: Tx, task: PlanTask) -> int:
    """The officer's reminder about their own task, or a partner's task to chase."""
    session = tx.session
    participant = await people.participant_by_id(session, task.participant_id)
    if participant is None or not await plans_db.claim_task_reminder(session, task.id, tx.now):
        return 0
    partner = await _partner_name(tx, task)
    queued = 0
    for member in await staff_alerts.responsible_staff(session, participant):
        with use_language(member.language):
            reply = Reply(_staff_reminder(participant, task, partner))
        outbox.to_staff(session, member, [reply], now=tx.now, kind="alert", about=participant.id)
        queued += 1
    return queued


def _staff_reminder(participant: Participant, task: PlanTask, partner: str | None) -> str:
    title = plan.title_of(task)
    if partner is None:
        # Translators: to the officer, about a task they do themselves
        text = _("⏰ Tomorrow your task in the plan of {name} is due: {title}").format(
            name=participant.name, title=title
        )
    else:
        # Translators: to the officer, about a task a partner organisation does
        text = _(
            "⏰ Tomorrow a task of {partner} in the plan of {name} is due: {title}. "
            "Check with them that it happens."
        ).format(partner=partner, name=participant.name, title=title)
    return text + "\n" + _("See /plan {id}.").format(id=participant.id)


async def _partner_name(tx: Tx, task: PlanTask) -> str | None:
    """The partner who owns a task (None for the officer's own tasks)."""
    if task.owner != TaskOwner.PARTNER or task.partner_id is None:
        return None
    partner = await plans_db.partner_by_id(tx.session, task.partner_id)
    return partner.name if partner is not None else "?"


async def alert_overdue(tx: Tx) -> int:
    """Alert the officer about tasks OVERDUE_DAYS past their date, whoever owns them."""
    session, now, zone = tx.session, tx.now, tx.settings.tz
    cutoff = now.astimezone(zone).date() - timedelta(days=OVERDUE_DAYS)
    raised = 0
    for task in await plans_db.tasks_overdue(session, cutoff):
        participant = await people.participant_by_id(session, task.participant_id)
        if participant is None or not await plans_db.claim_overdue_alert(session, task.id, now):
            continue
        with use_language(tx.settings.default_language):  # staff read it, not the participant
            title = plan.title_of(task)
        partner = await _partner_name(tx, task)
        await alerts.raise_alert(
            tx,
            participant,
            kind=AlertKind.TASK_OVERDUE,
            severity="low",
            categories=[task.domain, task.due_on.isoformat() if task.due_on else "", task.owner],
            excerpt=title if partner is None else f"{title} ({partner})",
        )
        raised += 1
    return raised


# The participant's weekly overview: Sunday at 17:00 local time, a calm moment before the
# week starts (after the last check-in of the week, far from the night).
OVERVIEW_SCHEDULE = CheckinSchedule(weekdays=(6,), at=time(17, 0))
OVERVIEW_NEXT = 3  # tasks shown under "next"


async def send_weekly_overviews(tx: Tx) -> int:
    """Tell every active participant what moved in their plan this week (tasks done, by
    anyone) and what is next for them (their own tasks due within a week), only when there
    is something to say; not while a crisis alert is open. Returns how many were queued."""
    session, now, zone = tx.session, tx.now, tx.settings.tz
    today = now.astimezone(zone).date()
    done: dict[int, list[PlanTask]] = defaultdict(list)
    for task in await plans_db.tasks_done_since(session, now - timedelta(days=7)):
        done[task.participant_id].append(task)
    upcoming: dict[int, list[PlanTask]] = defaultdict(list)
    for task in await plans_db.participant_tasks_due_by(session, today + timedelta(days=7)):
        upcoming[task.participant_id].append(task)
    if not done and not upcoming:
        return 0
    quiet = await safety.in_crisis(session, now)
    queued = 0
    for participant in await checkins_db.active_participants(session):
        if participant.id in quiet or not (done[participant.id] or upcoming[participant.id]):
            continue
        with use_language(participant.language):
            reply = overview_reply(done[participant.id], upcoming[participant.id], zone, today)
        queued += outbox.to_participant(
            session,
            participant,
            [reply],
            now=now,
            kind="prompt",
            priority=outbox.PRIORITY_PROMPT,
        )
    if queued:
        log.info("weekly plan overviews queued", extra={"count": queued})
    return queued


def overview_reply(
    done: list[PlanTask], upcoming: list[PlanTask], zone: tzinfo, today: date
) -> Reply:
    """The weekly overview in the current language."""
    lines = [_("📋 Your week in your plan")]
    if done:
        lines.append(
            ngettext(
                "Done this week: {count} task. Well done! 🙌",
                "Done this week: {count} tasks. Well done! 🙌",
                len(done),
            ).format(count=len(done))
        )
        lines += [f"✅ {plan.title_of(task)}" for task in done]
    if upcoming:
        # Translators: in the weekly overview, above the participant's next tasks
        lines.append(_("Next for you:"))
        lines += [f"• {plan.task_line(task, zone, today)}" for task in upcoming[:OVERVIEW_NEXT]]
    lines.append(_("Tap 📋 My plan to see all of it."))
    return Reply("\n".join(lines))
