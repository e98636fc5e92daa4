"""Dashboard login without passwords: a staff member asks the bot (/dashboard) or an
administrator asks the CLI for a one-time link valid ten minutes; opening it starts a
session. The database keeps only SHA-256 hashes of link and session tokens, so a copy of
the database opens nothing. The role is read from the staff row on every request, so a
removed staff member's next request is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import DEFAULT_WEB_LISTEN, Settings
from db import audit, people, web_sessions
from db.models import Staff

LOGIN_VALID = timedelta(minutes=10)
IDLE_TIMEOUT = timedelta(hours=12)
TOKEN_BYTES = 32  # 256 bits
LOGIN_PATH = "/dashboard/login/"


class LoginError(ValueError):
    """A login link cannot be made as asked (not a staff member)."""


@dataclass(frozen=True)
class LoginLink:
    """A fresh link; the token exists only here and in the URL."""

    url: str
    expires_at: datetime


def hash_token(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def base_url(settings: Settings) -> str:
    """Where staff open the dashboard: OPRIT_WEB_PUBLIC_URL behind a proxy, else the
    address `oprit web` listens on."""
    if settings.web_public_url:
        return settings.web_public_url
    listen = settings.web_listen
    return f"http://{listen.host}:{listen.port}" if listen else f"http://{DEFAULT_WEB_LISTEN}"


async def link_for(
    session: AsyncSession, staff: Staff, now: datetime, settings: Settings
) -> LoginLink:
    """A one-time login link for an active staff member (audited, without the token)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + LOGIN_VALID
    web_sessions.add_login_token(session, staff.id, hash_token(token), now, expires_at)
    audit.add(session, "web_login_link", actor="staff", actor_telegram_id=staff.telegram_id, at=now)
    return LoginLink(f"{base_url(settings)}{LOGIN_PATH}{token}", expires_at)


async def link_for_telegram_id(
    session: AsyncSession, telegram_id: int, now: datetime, settings: Settings
) -> LoginLink:
    """`oprit staff login-link`: only an active staff member gets one."""
    staff = await people.staff_by_telegram_id(session, telegram_id)
    if staff is None:
        raise LoginError(f"no active staff member has Telegram id {telegram_id}")
    return await link_for(session, staff, now, settings)


async def redeem(session: AsyncSession, token: str, now: datetime) -> str | None:
    """Use a login link once: a new session token, or None (unknown, used, expired, or the
    staff member was removed meanwhile)."""
    if not token or len(token) > 100:
        return None
    staff_id = await web_sessions.claim_login_token(session, hash_token(token), now)
    if staff_id is None:
        return None
    staff = await session.get(Staff, staff_id)
    if staff is None or not staff.active:
        return None
    session_token = secrets.token_urlsafe(TOKEN_BYTES)
    web_sessions.add_session(session, staff.id, hash_token(session_token), now)
    audit.add(session, "web_login", actor="staff", actor_telegram_id=staff.telegram_id, at=now)
    return session_token


async def staff_of(
    session: AsyncSession, session_token: str, now: datetime, *, active_use: bool = True
) -> Staff | None:
    """The active staff member whose session this is, read from the database now. A
    request the person made (`active_use`; not the page's own polling) restarts the idle
    clock, at most once a minute to spare the database."""
    if not session_token or len(session_token) > 100:
        return None
    found = await web_sessions.session_staff(session, hash_token(session_token), now - IDLE_TIMEOUT)
    if found is None:
        return None
    web_session, staff = found
    if not staff.active:
        return None
    if active_use and now - web_session.last_seen_at > timedelta(minutes=1):
        web_session.last_seen_at = now
    return staff


async def logout(session: AsyncSession, session_token: str, now: datetime) -> None:
    """End a session."""
    await web_sessions.end_session(session, hash_token(session_token), now)


def csrf_token(session_token: str) -> str:
    """The token every form of this session carries: derived from the session token, so
    another site can neither read nor guess it."""
    return hmac.new(session_token.encode(), b"oprit-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, given: str | None) -> bool:
    """Whether a state-changing request carries this session's CSRF token."""
    return bool(given) and hmac.compare_digest(csrf_token(session_token), str(given))
