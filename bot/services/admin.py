"""Administration services behind the command line: staff and participant overviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.events import Address
from bot.text import display_name
from db import audit, people, reports
from db.enums import Action, Channel
from db.models import Staff

ROLES = ("officer", "coordinator")


class AdminError(ValueError):
    """A request a person can fix (unknown role, duplicate id)."""


async def add_staff(
    session: AsyncSession,
    *,
    telegram_id: int,
    role: str,
    name: str,
    backup: bool,
    language: str,
    now: datetime,
    officer_group: int | None = None,
) -> Staff:
    """Add an officer or coordinator (or update the existing one with that Telegram id);
    someone removed earlier may join the officer group again."""
    if role not in ROLES:
        raise AdminError(f"unknown role {role!r}; use officer or coordinator")
    if telegram_id <= 0:
        raise AdminError("a Telegram user id is a positive number")
    if display_name(name) == "?":
        raise AdminError("give a name with --name")
    if await people.participant_by_telegram_id(session, telegram_id) is not None:
        raise AdminError(f"Telegram id {telegram_id} belongs to a participant")
    existing = await people.staff_including_inactive(session, telegram_id)
    if existing is not None and not existing.active and officer_group is not None:
        outbox.call(
            session,
            Action.MEMBER_RESTORE,
            Address(Channel.TELEGRAM, officer_group),
            {"user_id": telegram_id},
            now=now,
        )
    if existing is None:
        existing = Staff(telegram_id=telegram_id, created_at=now, reachable=None)
        session.add(existing)
    existing.role, existing.name, existing.is_backup = role, display_name(name), backup
    existing.language, existing.active = language, True
    await session.flush()
    audit.add(
        session,
        "staff_added",
        actor="cli",
        detail={"staff_id": existing.id, "role": role, "backup": backup},
        at=now,
    )
    return existing


def staff_reachability(staff: Staff) -> str:
    """How `staff list` describes whether the bot can message this person."""
    if staff.reachable:
        return "reachable"
    return "not reachable — ask them to open the bot"


async def list_staff(session: AsyncSession) -> list[dict[str, Any]]:
    """Staff as JSON-ready dicts."""
    return [
        {
            "id": staff.id,
            "telegram_id": staff.telegram_id,
            "role": staff.role,
            "name": staff.name,
            "backup": staff.is_backup,
            "language": staff.language,
            "active": staff.active,
            "reachable": bool(staff.reachable),
            "status": staff_reachability(staff),
        }
        for staff in await people.all_staff(session)
    ]


async def list_participants(session: AsyncSession, now: datetime) -> list[dict[str, Any]]:
    """The participant overview of docs/design.md (`oprit participants list`)."""
    return [
        {
            "id": row.id,
            "name": row.name,
            "telegram_id": row.telegram_id,
            "language": row.language,
            "status": row.status,
            "last_checkin_at": row.last_checkin_at.isoformat() if row.last_checkin_at else None,
            "open_help_requests": row.open_help_requests,
            "next_appointment_at": (
                row.next_appointment_at.isoformat() if row.next_appointment_at else None
            ),
        }
        for row in await reports.participant_overview(session, now)
    ]


async def remove_staff(
    session: AsyncSession, telegram_id: int, now: datetime, officer_group: int | None = None
) -> Staff:
    """Take away a staff member's access at once (every action re-reads the role), and in
    forum mode remove them from the officer group, where the participants' topics are."""
    staff = await people.staff_by_telegram_id(session, telegram_id)
    if staff is None:
        raise AdminError(f"no active staff member with Telegram id {telegram_id}")
    staff.active = False
    if officer_group is not None:
        outbox.call(
            session,
            Action.MEMBER_REMOVE,
            Address(Channel.TELEGRAM, officer_group),
            {"user_id": telegram_id},
            now=now,
        )
    audit.add(session, "staff_removed", actor="cli", detail={"staff_id": staff.id}, at=now)
    return staff


async def audit_log(session: AsyncSession, since: datetime | None) -> list[dict[str, Any]]:
    """The audit log as JSON-ready dicts (ids and facts, never content)."""
    return [
        {
            "at": entry.at.isoformat(),
            "action": entry.action,
            "actor": entry.actor,
            "actor_telegram_id": entry.actor_telegram_id,
            "participant_id": entry.participant_id,
            "detail": entry.detail or {},
        }
        for entry in await audit.since(session, since)
    ]
