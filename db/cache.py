"""The one per-transaction cache: what a transaction has read or queued and may reuse.

Several updates share one transaction (bot.engine.inbox), and each used to look up
its sender, their flow state and whether anything was queued with queries of its own.
What the transaction learns is kept here, in `session.info`, and lives exactly as long as
the session; every field says who fills it and who keeps it true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from db.models import Participant, Staff

_KEY = "oprit_cache"


@dataclass
class TxCache:
    """See the module docstring."""

    # Filled by db.people.prefetch: the Telegram ids looked up, and the active staff and
    # participants found for them (answers stay as fresh as a query in this transaction).
    looked_up: set[int] | None = None
    staff: dict[int, Staff] = field(default_factory=dict)
    participants: dict[int, Participant] = field(default_factory=dict)
    # Filled by db.flow_states.prefetch: people known to have no flow state; kept true by
    # save and clear in db.flow_states.
    without_flow: set[tuple[str, int, str]] | None = None
    # Set by db.outbox.add: the most urgent priority queued in this transaction, so the
    # committer wakes the sender only then and a group of updates can commit early for it.
    most_urgent_queued: int | None = None


def cache(session: AsyncSession) -> TxCache:
    """This transaction's cache (made on first use)."""
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = TxCache()
    assert isinstance(found, TxCache)
    return found
