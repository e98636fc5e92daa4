"""When stored data cannot be decrypted: the row is set aside (never wiped), counted in
/metrics, and the coordinators hear it once, so a wrong key or a damaged backup is noticed
while everything else goes on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.replies import Reply
from bot.i18n import _, use_language
from db import staff_queries, state

NOTICE_KEY = "undecryptable_notice"


async def tell_staff_once(session: AsyncSession, now: datetime) -> None:
    """Tell every coordinator (or, without one, every officer) once."""
    if not await state.compare_and_set(session, NOTICE_KEY, "sent", now):
        return
    staff = await staff_queries.coordinators(session) or await staff_queries.officers(session)
    for member in staff:
        with use_language(member.language):
            notice = Reply(
                _(
                    "Some stored messages cannot be decrypted with the configured key. They "
                    "are kept, not sent, and counted in /metrics (oprit_undecryptable). "
                    "Ask your administrator to check the encryption key and the backups."
                )
            )
        outbox.to_staff(
            session,
            member,
            [notice],
            now=now,
            kind="alert",
            priority=outbox.PRIORITY_ALERT,
        )
