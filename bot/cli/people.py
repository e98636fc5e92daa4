"""`oprit staff ...`, `oprit invite create` and `oprit participants list`."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import (
    AddCommand,
    CliError,
    calendar_date,
    duration,
    group,
    out,
    positive_int,
    table,
    text,
    with_database,
)
from bot.config import Settings
from bot.runtime import Runtime
from bot.services import admin, enrolment, web_login
from bot.services.invites import InviteError, create_invite
from db import state
from db.enums import Channel


def staff_add(settings: Settings, args: argparse.Namespace) -> int:
    """Add an officer or coordinator."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        staff = await admin.add_staff(
            session,
            telegram_id=args.telegram_id,
            role=args.role,
            name=args.name,
            backup=args.backup,
            language=settings.default_language,
            now=runtime.clock.now(),
            officer_group=settings.officer_chat_id,
        )
        return {"id": staff.id, "telegram_id": staff.telegram_id, "role": staff.role}

    data = asyncio.run(with_database(settings, work))
    out(
        data,
        args.json,
        lambda d: (
            f"added {d['role']} (staff id {d['id']}); ask them to open the bot and "
            "send /start so it can message them"
        ),
    )
    return 0


def staff_list(settings: Settings, args: argparse.Namespace) -> int:
    """List staff and whether the bot can reach them."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        return await admin.list_staff(session)

    rows = asyncio.run(with_database(settings, work))
    columns = ("id", "telegram_id", "role", "name", "backup", "status")
    out(rows, args.json, lambda r: table(r, columns))
    return 0


def staff_remove(settings: Settings, args: argparse.Namespace) -> int:
    """Remove a staff member's access."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        staff = await admin.remove_staff(
            session, args.telegram_id, runtime.clock.now(), settings.officer_chat_id
        )
        return {"id": staff.id, "telegram_id": staff.telegram_id, "active": staff.active}

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"staff {d['id']} removed; their access ended now")
    return 0


def staff_login_link(settings: Settings, args: argparse.Namespace) -> int:
    """A one-time dashboard login link for a staff member."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        link = await web_login.link_for_telegram_id(
            session, args.telegram_id, runtime.clock.now(), settings
        )
        return {"url": link.url, "expires_at": link.expires_at.isoformat()}

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"{d['url']}\nvalid once, until {d['expires_at']}")
    return 0


async def _bot_username(settings: Settings, session: AsyncSession) -> str:
    """The one recorded at the bot's last start, else asked from Telegram."""
    from telegram import Bot  # only here: it adds a fifth of a second to every command
    from telegram.error import TelegramError

    stored = await state.get(session, "bot_username")
    if stored:
        return stored
    if not settings.bot_token:
        raise CliError(
            "the bot's username is not known yet: set OPRIT_BOT_TOKEN or start the bot once "
            "with 'make run', so the invite link can name the bot"
        )
    try:
        async with Bot(settings.bot_token, base_url=settings.telegram_api_url) as bot:
            username = bot.username
    except TelegramError as error:
        raise CliError(f"could not ask Telegram for the bot's name: {error}") from None
    return username


def signal_link(settings: Settings) -> str:
    """The link that opens a Signal chat with the bot's number (the participant then
    sends the code: a signal.me link cannot carry a message)."""
    if not settings.signal_account:
        raise CliError("set OPRIT_SIGNAL_ACCOUNT (the bot's Signal number) to invite on Signal")
    return f"https://signal.me/#p/{settings.signal_account}"


def invite_create(settings: Settings, args: argparse.Namespace) -> int:
    """Make a single-use invite code and link."""
    valid_for = duration(args.expires, "--expires")
    if args.channel == Channel.SIGNAL:
        signal_link(settings)  # refuse before an invite is made

    if args.participant is not None and (args.name or args.officer):
        raise InviteError(
            "--participant takes the name and officer from the enrolment; "
            "leave out --name and --officer"
        )

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        invite = await create_invite(
            session,
            now=runtime.clock.now(),
            valid_for=valid_for,
            officer_telegram_id=args.officer,
            name=args.name,
            language=args.language,
            participant_id=args.participant,
        )
        if args.channel == Channel.SIGNAL:
            made = {
                "code": invite.code,
                "link": signal_link(settings),
                "channel": Channel.SIGNAL.value,
                "expires_at": invite.expires_at.isoformat(),
            }
            return made if args.participant is None else {**made, "participant": args.participant}
        made = {
            "code": invite.code,
            "link": invite.link(await _bot_username(settings, session)),
            "expires_at": invite.expires_at.isoformat(),
        }
        return made if args.participant is None else {**made, "participant": args.participant}

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, _invite_text)
    return 0


def _invite_text(data: dict[str, Any]) -> str:
    if data.get("channel") == Channel.SIGNAL:
        return (
            f"{data['link']}\nthe participant opens the link and sends the code "
            f"{data['code']}; valid until {data['expires_at']}"
        )
    return f"{data['link']}\ncode {data['code']}, valid until {data['expires_at']}"


def invite_letter(settings: Settings, args: argparse.Namespace) -> int:
    """A new invite for an enrolled participant, printed as a one-page letter (PDF) with
    a QR code; older unused invites for them stop working."""
    valid_for = duration(args.expires, "--expires")

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        made = await enrolment.letter(
            session,
            args.participant,
            now=runtime.clock.now(),
            valid_for=valid_for,
            zone=settings.tz,
            bot_username=await _bot_username(settings, session),
        )
        try:
            args.out.write_bytes(made.pdf)
        except OSError as error:  # the invite is rolled back with the transaction
            raise CliError(f"cannot write {args.out}: {error.strerror}") from None
        return {"file": str(args.out), "link": made.link, "expires_at": made.expires_at}

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"letter written to {d['file']}; valid until {d['expires_at']}")
    return 0


def participants_enrol(settings: Settings, args: argparse.Namespace) -> int:
    """Enrol a participant still in detention, with a release date and the default
    release checklist as their first plan."""
    release = calendar_date(args.release_date, "--release-date")

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        participant = await enrolment.enrol(
            session,
            name=args.name,
            release_date=release,
            now=runtime.clock.now(),
            zone=settings.tz,
            default_language=settings.default_language,
            facility=args.facility,
            officer_telegram_id=args.officer,
            language=args.language,
            checklist=not args.no_checklist,
        )
        return {
            "id": participant.id,
            "name": participant.name,
            "status": participant.status,
            "release_date": release.isoformat(),
            "language": participant.language,
        }

    data = asyncio.run(with_database(settings, work))
    out(
        data,
        args.json,
        lambda d: (
            f"enrolled participant {d['id']} (release {d['release_date']}); make their "
            f"invite with 'oprit invite create --participant {d['id']}'"
        ),
    )
    return 0


def participants_list(settings: Settings, args: argparse.Namespace) -> int:
    """The participant overview."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        return await admin.list_participants(session, runtime.clock.now())

    rows = asyncio.run(with_database(settings, work))
    columns = (
        "id",
        "name",
        "language",
        "status",
        "last_checkin_at",
        "open_help_requests",
        "next_appointment_at",
    )
    out(rows, args.json, lambda r: table(r, columns))
    return 0


def register(commands: Any, command: AddCommand) -> None:
    """`oprit staff add|list|remove`, `oprit invite create`, `oprit participants list`."""
    staff = group(commands, "staff", "officers and coordinators")
    add = command(staff, "add", staff_add, "add an officer or coordinator")
    add.add_argument("--telegram-id", type=positive_int, required=True)
    add.add_argument("--role", required=True, help="officer or coordinator")
    add.add_argument("--name", required=True, type=text)
    add.add_argument("--backup", action="store_true", help="receives escalated alerts")
    command(staff, "list", staff_list, "list staff and whether the bot can reach them")
    remove = command(staff, "remove", staff_remove, "take away a staff member's access")
    remove.add_argument("--telegram-id", type=positive_int, required=True)
    link = command(staff, "login-link", staff_login_link, "a one-time dashboard login link")
    link.add_argument("--telegram-id", type=positive_int, required=True)

    invite = group(commands, "invite", "invite codes")
    create = command(invite, "create", invite_create, "make a single-use invite link")
    create.add_argument("--officer", type=positive_int, metavar="TELEGRAM_ID")
    create.add_argument("--name", type=text)
    create.add_argument("--language")
    create.add_argument("--expires", default="14d", help="how long it stays valid (14d, 48h)")
    create.add_argument(
        "--channel",
        choices=[Channel.TELEGRAM.value, Channel.SIGNAL.value],
        default=Channel.TELEGRAM.value,
        help="the messenger the participant uses (signal needs OPRIT_SIGNAL_ACCOUNT)",
    )
    create.add_argument(
        "--participant", type=positive_int, help="for a participant enrolled before release"
    )

    letter = command(invite, "letter", invite_letter, "print an invite letter with a QR code")
    letter.add_argument("--participant", type=positive_int, required=True)
    letter.add_argument("--out", type=Path, required=True, metavar="FILE.pdf")
    letter.add_argument("--expires", default="60d", help="how long it stays valid (60d)")

    participants = group(commands, "participants", "participants")
    command(participants, "list", participants_list, "list all participants")
    enrol = command(participants, "enrol", participants_enrol, "enrol someone before their release")
    enrol.add_argument("--name", required=True, type=text)
    enrol.add_argument("--release-date", required=True, metavar="YYYY-MM-DD")
    enrol.add_argument("--facility", type=text, help="the prison, e.g. 'PI Dordrecht'")
    enrol.add_argument("--officer", type=positive_int, metavar="TELEGRAM_ID")
    enrol.add_argument("--language")
    enrol.add_argument(
        "--no-checklist", action="store_true", help="start without the default release checklist"
    )
