"""`oprit staff ...`, `oprit invite create` and `oprit participants list`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import (
    AddCommand,
    CliError,
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
from bot.services import admin, web_login
from bot.services.invites import create_invite
from db import state


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


def invite_create(settings: Settings, args: argparse.Namespace) -> int:
    """Make a single-use invite code and link."""
    valid_for = duration(args.expires, "--expires")

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        invite = await create_invite(
            session,
            now=runtime.clock.now(),
            valid_for=valid_for,
            officer_telegram_id=args.officer,
            name=args.name,
            language=args.language,
        )
        return {
            "code": invite.code,
            "link": invite.link(await _bot_username(settings, session)),
            "expires_at": invite.expires_at.isoformat(),
        }

    data = asyncio.run(with_database(settings, work))
    out(data, args.json, lambda d: f"{d['link']}\ncode {d['code']}, valid until {d['expires_at']}")
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

    participants = group(commands, "participants", "participants")
    command(participants, "list", participants_list, "list all participants")
