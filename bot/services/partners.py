"""The directory of partner organisations (debt counselling, housing corporations,
probation, the Safety House): a plan task can be theirs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.plan import DOMAINS, PlanError, checked_text
from bot.text import display_name
from db import plans as plans_db
from db.models import Partner

MAX_NAME = 200
MAX_CONTACT = 500


async def add(
    session: AsyncSession,
    *,
    name: str,
    domain: str,
    contact: str | None,
    reach: str | None,
    now: datetime,
) -> Partner:
    """Add a partner organisation (every check before anything is written)."""
    kept_name = checked_text(name, "the name", MAX_NAME, required=True)
    if domain not in DOMAINS:
        raise PlanError(f"unknown domain {domain[:40]!r}; use one of {', '.join(DOMAINS)}")
    partner = Partner(
        name=display_name(kept_name),
        domain=domain,
        contact=checked_text(contact, "the contact", MAX_CONTACT, required=False),
        reach=checked_text(reach, "how to reach them", MAX_CONTACT, required=False),
        created_at=now,
    )
    session.add(partner)
    await session.flush()
    return partner


async def listed(session: AsyncSession) -> Sequence[Partner]:
    """Every partner organisation, by name."""
    return await plans_db.all_partners(session)


def partner_dict(partner: Partner) -> dict[str, Any]:
    """A partner for `oprit partner list --json`."""
    return {
        "id": partner.id,
        "name": partner.name,
        "domain": partner.domain,
        "contact": partner.contact,
        "reach": partner.reach,
    }
