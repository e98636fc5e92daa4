"""Enrolment before release: a participant exists in Oprit while still in detention, with
a release date and a plan, before they have a phone. The invite made for that record
links their chat account to it on /start CODE, and they see their first week and their
plan right after signing up.

Release day itself: the day before (from RELEASE_REMINDER_HOUR) the officer is reminded,
and on the morning (from RELEASE_GREETING_HOUR) a participant who signed up already gets
a greeting. Each goes once, claimed in the database, so a restart or a second worker
never sends it twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.replies import Keyboard, Reply
from bot.i18n import _, available_languages, use_language
from bot.runtime import Tx
from bot.services import appointments, plan, staff_alerts
from bot.services.invites import create_invite
from bot.services.letter import invite_letter
from bot.text import display_name
from db import appointments as appointments_db
from db import audit, people, staff_queries
from db import plans as plans_db
from db.enums import ParticipantStatus, Role
from db.models import Participant

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_FACILITY = 200
MAX_YEARS_AHEAD = 30  # a release date further ahead is a typo
FIRST_WEEK = timedelta(days=7)
WELCOME_TASKS = 6
RELEASE_REMINDER_HOUR = 9
RELEASE_GREETING_HOUR = 8


class EnrolmentError(ValueError):
    """An enrolment that cannot be made as asked; the message says why."""


async def enrol(
    session: AsyncSession,
    *,
    name: str,
    release_date: date,
    now: datetime,
    zone: tzinfo,
    default_language: str,
    facility: str | None = None,
    officer_telegram_id: int | None = None,
    language: str | None = None,
    checklist: bool = True,
) -> Participant:
    """Enrol a participant still in detention (every check before anything is written)."""
    try:
        kept_name = plan.checked_text(name, "the name", MAX_NAME, required=True)
        kept_facility = plan.checked_text(facility, "the facility", MAX_FACILITY, required=False)
    except plan.PlanError as error:
        raise EnrolmentError(str(error)) from None
    shown = display_name(kept_name)
    if shown == "?":
        raise EnrolmentError("the name has no letters")
    today = plan.local_today(now, zone)
    if release_date < today:
        raise EnrolmentError("the release date is before today (the enrolment date)")
    if release_date.year > today.year + MAX_YEARS_AHEAD:
        raise EnrolmentError("the release date is too far ahead; check the year")
    if language is not None and language not in available_languages():
        raise EnrolmentError(
            f"unknown language {language[:20]!r}; use one of {', '.join(available_languages())}"
        )
    officer_id = None
    if officer_telegram_id is not None:
        officer = await people.staff_by_telegram_id(session, officer_telegram_id)
        if officer is None or officer.role != Role.OFFICER:
            raise EnrolmentError(f"no officer with Telegram id {officer_telegram_id}")
        officer_id = officer.id
    participant = Participant(
        telegram_id=None,
        name=shown,
        language=language or default_language,
        status=ParticipantStatus.IN_DETENTION,
        officer_id=officer_id,
        release_date=release_date,
        facility=kept_facility,
        created_at=now,
    )
    session.add(participant)
    await session.flush()
    if checklist:
        plan.add_checklist(session, participant, release_date, now)
    audit.add(session, "participant_enrolled", actor="cli", participant_id=participant.id, at=now)
    return participant


@dataclass(frozen=True)
class Letter:
    """An invite letter and the link it carries."""

    pdf: bytes
    link: str
    expires_at: str


async def letter(
    session: AsyncSession,
    participant_id: int,
    *,
    now: datetime,
    valid_for: timedelta,
    zone: tzinfo,
    bot_username: str,
) -> Letter:
    """Make a new invite for an enrolled participant and its letter, in their language."""
    invite = await create_invite(
        session, now=now, valid_for=valid_for, participant_id=participant_id
    )
    participant = await people.participant_by_id(session, participant_id)
    assert participant is not None  # create_invite checked it
    officer = (
        await staff_queries.active_by_id(session, participant.officer_id)
        if participant.officer_id is not None
        else None
    )
    link = invite.link(bot_username)
    pdf = invite_letter(
        name=participant.name,
        language=participant.language,
        officer=officer.name if officer is not None else None,
        link=link,
        expires_at=invite.expires_at,
        release_date=participant.release_date,
        zone=zone,
    )
    return Letter(pdf, link, invite.expires_at.isoformat())


def _first_day(participant: Participant, now: datetime, zone: tzinfo) -> datetime:
    """Where "the first week" starts: release morning, or now when that has passed."""
    if participant.release_date is None:
        return now
    release = datetime.combine(participant.release_date, time(0, 0), tzinfo=zone)
    return max(now, release)


async def welcome_overview(tx: Tx, participant: Participant) -> Reply | None:
    """Right after sign-up: the first week's appointments and the participant's own plan
    tasks, in one message (None when there is neither)."""
    session, now, zone = tx.session, tx.now, tx.settings.tz
    week_end = _first_day(participant, now, zone) + FIRST_WEEK
    week = [
        a for a in await appointments_db.upcoming(session, participant.id, now) if a.at < week_end
    ]
    tasks = list(await plans_db.open_tasks_for_participant(session, participant.id))
    if not week and not tasks:
        return None
    parts: list[str] = []
    if week:
        lines = [_("📅 Your first week:")]
        lines += [appointments.describe(appointment, zone, now) for appointment in week]
        parts.append("\n\n".join(lines))
    if tasks:
        today = plan.local_today(now, zone)
        lines = [_("📋 Your plan, things to do first:")]
        lines += [plan.task_line(task, zone, today) for task in tasks[:WELCOME_TASKS]]
        if len(tasks) > WELCOME_TASKS:
            lines.append(_("… and more. Your officer helps you with all of it."))
        parts.append("\n".join(lines))
    return Reply("\n\n".join(parts), keyboard=Keyboard.PARTICIPANT)


def officer_reminder(participant: Participant, open_tasks: int) -> Reply:
    """The officer's reminder the day before a release."""
    if participant.facility:
        text = _("Tomorrow {name} is released from {facility}.").format(
            name=participant.name, facility=participant.facility
        )
    else:
        text = _("Tomorrow {name} is released.").format(name=participant.name)
    if participant.status == ParticipantStatus.IN_DETENTION:
        text += "\n" + _("They are not in the chat yet. Give them their invite.")
    text += "\n" + _("Open tasks in the plan: {count}. See /plan {id}.").format(
        count=open_tasks, id=participant.id
    )
    return Reply(text)


def release_greeting() -> Reply:
    """The participant's greeting on the morning of release day."""
    return Reply(
        _(
            "Good morning! 🌅 Today is your first day outside. Welcome back.\n"
            "Your officer is here for you. Tap 📋 My plan to see what to do first, "
            "or just write to me."
        )
    )


async def release_days(tx: Tx) -> int:
    """Queue the day-before reminders and release-morning greetings that are due; returns
    how many messages were queued."""
    session, now, zone = tx.session, tx.now, tx.settings.tz
    local = now.astimezone(zone)
    queued = 0
    if local.hour >= RELEASE_REMINDER_HOUR:
        for participant in await plans_db.released_on(session, local.date() + timedelta(days=1)):
            if participant.release_reminded_at is not None:
                continue
            if not await plans_db.claim_release_reminder(session, participant.id, now):
                continue
            tasks = await plans_db.tasks_of(session, participant.id)
            unfinished = sum(1 for task in tasks if task.status in plans_db.UNFINISHED)
            for member in await staff_alerts.responsible_staff(session, participant):
                with use_language(member.language):
                    reply = officer_reminder(participant, unfinished)
                outbox.to_staff(
                    session, member, [reply], now=now, kind="alert", about=participant.id
                )
                queued += 1
    if local.hour >= RELEASE_GREETING_HOUR:
        for participant in await plans_db.released_on(session, local.date()):
            if participant.release_greeted_at is not None:
                continue
            if outbox.address_of(participant) is None:
                continue
            if not await plans_db.claim_release_greeting(session, participant.id, now):
                continue
            with use_language(participant.language):
                reply = release_greeting()
            queued += outbox.to_participant(
                session,
                participant,
                [reply],
                now=now,
                kind="prompt",
                priority=outbox.PRIORITY_PROMPT,
            )
    if queued:
        log.info("release-day messages queued", extra={"count": queued})
    return queued
