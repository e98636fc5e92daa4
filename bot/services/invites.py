"""Invites: single-use codes that link a new participant's chat account to Oprit.

Codes carry 80 random bits and expire; only their hash is stored, so the database cannot
give a code away.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import available_languages
from bot.text import display_name
from db import audit, people
from db import plans as plans_db
from db.enums import ParticipantStatus, Role
from db.models import Invite

CODE_BYTES = 10  # 80 bits


class InviteError(ValueError):
    """An invite cannot be made as asked (e.g. an unknown officer)."""


@dataclass(frozen=True)
class NewInvite:
    """A freshly made invite; the code exists only here, the database keeps a hash."""

    code: str
    expires_at: datetime

    def link(self, bot_username: str) -> str:
        """The deep link that opens the bot with this code."""
        return f"https://t.me/{bot_username}?start={self.code}"


def hash_code(code: str) -> str:
    """The stored form of a code."""
    return hashlib.sha256(code.strip().encode("utf-8", "replace")).hexdigest()


async def create_invite(
    session: AsyncSession,
    *,
    now: datetime,
    valid_for: timedelta,
    officer_telegram_id: int | None = None,
    name: str | None = None,
    language: str | None = None,
    created_by: int | None = None,
    participant_id: int | None = None,
) -> NewInvite:
    """Make a single-use invite code and its deep link. With `participant_id` the invite
    is for a participant enrolled before release: their name, language and officer come
    from that record, /start links the chat account to it, and older unused invites for
    them stop working."""
    if valid_for <= timedelta(0):
        raise InviteError("the expiry must be in the future")
    enrolled = None
    if participant_id is not None:
        enrolled = await people.participant_by_id(session, participant_id)
        if enrolled is None:
            raise InviteError(f"no participant with id {participant_id}")
        if enrolled.status != ParticipantStatus.IN_DETENTION:
            raise InviteError(
                f"participant {participant_id} has already signed up in the chat; "
                "an invite is only for someone who has not"
            )
        name, language = enrolled.name, language or enrolled.language
        officer_telegram_id = None
    if language is not None and language not in available_languages():
        raise InviteError(
            f"unknown language {language!r}; use one of {', '.join(available_languages())}"
        )
    officer_id = None
    if officer_telegram_id is not None:
        officer = await people.staff_by_telegram_id(session, officer_telegram_id)
        if officer is None or officer.role != Role.OFFICER:
            raise InviteError(f"no officer with Telegram id {officer_telegram_id}")
        officer_id = officer.id
    if enrolled is not None:
        officer_id = enrolled.officer_id
        await plans_db.retire_open_invites(session, enrolled.id, now)
    code = secrets.token_urlsafe(CODE_BYTES)
    invite = Invite(
        code_hash=hash_code(code),
        name=display_name(name) if name and display_name(name) != "?" else None,
        language=language,
        officer_id=officer_id,
        created_at=now,
        expires_at=now + valid_for,
        participant_id=participant_id,
    )
    session.add(invite)
    await session.flush()
    audit.add(
        session,
        "invite_created",
        actor="staff" if created_by else "cli",
        actor_telegram_id=created_by,
        participant_id=participant_id,
        detail={"invite_id": invite.id},
        at=now,
    )
    return NewInvite(code, invite.expires_at)
