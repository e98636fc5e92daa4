"""`oprit appointment add` and `oprit broadcast send|status`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import (
    AddCommand,
    CliError,
    group,
    local_time,
    out,
    positive_int,
    text,
    with_database,
)
from bot.config import Settings
from bot.i18n import available_languages
from bot.runtime import Runtime
from bot.services import appointments, attendance, broadcasts
from db import broadcasts as broadcasts_db


def appointment_add(settings: Settings, args: argparse.Namespace) -> int:
    """Plan an appointment; reminders are made from OPRIT_REMINDER_OFFSETS, and the
    participant is sent the appointment (the running bot delivers it)."""
    at = local_time(args.at, "--at", settings.tz)

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        now = runtime.clock.now()
        made = await appointments.create(
            session,
            args.participant,
            at=at,
            with_org=args.with_org,
            location=args.location,
            note=args.note,
            offsets=settings.reminder_offsets,
            zone=settings.tz,
            now=now,
        )
        await appointments.tell_participant(
            session, made.appointment, appointments.Change.PLANNED, zone=settings.tz, now=now
        )
        return {
            "id": made.appointment.id,
            "participant": args.participant,
            "at": made.appointment.at.isoformat(),
            "reminders": [moment.isoformat() for moment in made.reminder_times],
        }

    data = asyncio.run(with_database(settings, work))
    out(
        data,
        args.json,
        lambda d: (
            f"appointment {d['id']} at {d['at']}; reminders at "
            + (", ".join(d["reminders"]) or "(none: too soon)")
        ),
    )
    return 0


def appointment_attended(settings: Settings, args: argparse.Namespace) -> int:
    """Record whether the participant came to an appointment."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        appointment = await attendance.record(
            session, args.id, args.outcome, now=runtime.clock.now()
        )
        return {"id": appointment.id, "attendance": appointment.attendance}

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"appointment {d['id']}: {d['attendance']}")
    return 0


def broadcast_send(settings: Settings, args: argparse.Namespace) -> int:
    """Queue a broadcast; the running bot delivers it."""
    texts = {settings.default_language: args.text}
    for language in available_languages():
        extra = getattr(args, f"text_{language}", None)
        if extra is not None:
            texts[language] = extra
    send_at = local_time(args.at, "--at", settings.tz) if args.at else None

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        now = runtime.clock.now()
        broadcast, audience = await broadcasts.create(
            session,
            texts=texts,
            cohort=args.cohort,
            send_at=send_at or now,
            default_language=settings.default_language,
            now=now,
        )
        return {"id": broadcast.id, "recipients": audience}

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"broadcast {d['id']} queued for {d['recipients']} people")
    return 0


def broadcast_status(settings: Settings, args: argparse.Namespace) -> int:
    """Delivery counts of one broadcast."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, int]:
        broadcast = await broadcasts_db.by_id(session, args.id)
        if broadcast is None:
            raise CliError(f"no broadcast with id {args.id}")
        return (await broadcasts.report(session, broadcast)).as_dict()

    data = asyncio.run(with_database(settings, work))
    out(
        data,
        args.json,
        lambda d: (
            "broadcast {id}: {recipients} recipients, {sent} sent, {failed} failed, "
            "{blocked} blocked, {pending} pending".format(**d)
        ),
    )
    return 0


def register(commands: Any, command: AddCommand) -> None:
    """`oprit appointment add|attended`, `oprit broadcast send|status`."""
    appointment = group(commands, "appointment", "appointments")
    plan = command(appointment, "add", appointment_add, "plan an appointment with reminders")
    plan.add_argument("--participant", type=positive_int, required=True, metavar="ID")
    plan.add_argument("--at", required=True, help="ISO 8601; local time when no offset")
    plan.add_argument("--with", dest="with_org", required=True, metavar="ORG", type=text)
    plan.add_argument("--location", type=text)
    plan.add_argument("--note", type=text)
    attended = command(
        appointment, "attended", appointment_attended, "record whether the participant came"
    )
    attended.add_argument("id", type=positive_int)
    attended.add_argument("--outcome", required=True, help="attended, no-show or rescheduled")

    broadcast = group(commands, "broadcast", "broadcasts")
    send = command(broadcast, "send", broadcast_send, "send a message to participants")
    send.add_argument("--text", required=True, help="the text in the default language", type=text)
    for language in available_languages():
        send.add_argument(
            f"--text-{language}", metavar="TEXT", type=text, help=f"the text in {language}"
        )
    send.add_argument("--cohort", default="all", help="all or language:LANG")
    send.add_argument("--at", help="ISO 8601; local time when no offset (default: now)")
    status = command(broadcast, "status", broadcast_status, "delivery counts of a broadcast")
    status.add_argument("id", type=positive_int)
