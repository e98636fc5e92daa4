"""Dashboard login links and sessions: rows keyed by a hash of their token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Staff, WebLoginToken, WebSession


def add_login_token(
    session: AsyncSession, staff_id: int, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    """Remember a login link until it is used or expires."""
    session.add(
        WebLoginToken(
            token_hash=token_hash, staff_id=staff_id, created_at=now, expires_at=expires_at
        )
    )


async def claim_login_token(session: AsyncSession, token_hash: str, now: datetime) -> int | None:
    """Use a login link: one UPDATE … RETURNING, so two clicks at once open one session.
    The staff id, or None for an unknown, used or expired link."""
    claimed = await session.execute(
        update(WebLoginToken)
        .where(
            WebLoginToken.token_hash == token_hash,
            WebLoginToken.used_at.is_(None),
            WebLoginToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(WebLoginToken.staff_id)
    )
    staff_id = claimed.scalar_one_or_none()
    return int(staff_id) if staff_id is not None else None


def add_session(session: AsyncSession, staff_id: int, token_hash: str, now: datetime) -> None:
    """A new session for a staff member."""
    session.add(
        WebSession(token_hash=token_hash, staff_id=staff_id, created_at=now, last_seen_at=now)
    )


async def session_staff(
    session: AsyncSession, token_hash: str, seen_after: datetime
) -> tuple[WebSession, Staff] | None:
    """The open session with this token, seen after a moment, and its staff member read
    now (active or not: the caller decides)."""
    row = (
        await session.execute(
            select(WebSession, Staff)
            .join(Staff, Staff.id == WebSession.staff_id)
            .where(
                WebSession.token_hash == token_hash,
                WebSession.ended_at.is_(None),
                WebSession.last_seen_at > seen_after,
            )
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def end_session(session: AsyncSession, token_hash: str, now: datetime) -> None:
    """Log out."""
    await session.execute(
        update(WebSession)
        .where(WebSession.token_hash == token_hash, WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )
