"""Help request queries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import HelpStatus
from db.models import HelpRequest


async def open_requests(session: AsyncSession, participant_id: int) -> Sequence[HelpRequest]:
    """A participant's requests that are not resolved yet, oldest first."""
    return (
        await session.scalars(
            select(HelpRequest)
            .where(
                HelpRequest.participant_id == participant_id,
                HelpRequest.status != HelpStatus.RESOLVED,
            )
            .order_by(HelpRequest.id)
        )
    ).all()
