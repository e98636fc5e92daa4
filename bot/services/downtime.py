"""Telling staff that the bot was down: since when, and how many messages came in."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.replies import Reply
from bot.i18n import _, ngettext, timestamp, use_language
from db import reports, staff_queries, state

HEARTBEAT_KEY = "heartbeat"
NOTICE_AFTER = timedelta(minutes=5)


async def last_heartbeat(session: AsyncSession) -> datetime | None:
    """When the bot last said it was alive."""
    stored = await state.get(session, HEARTBEAT_KEY)
    return datetime.fromisoformat(stored) if stored else None


async def notify_staff(
    session: AsyncSession, down_since: datetime, back_at: datetime, zone: tzinfo
) -> int:
    """One line to every officer and coordinator; returns the number of messages counted."""
    arrived = await reports.inbound_between(session, down_since, back_at)
    staff = [*await staff_queries.officers(session), *await staff_queries.coordinators(session)]
    for member in staff:
        if member.reachable is False:
            continue
        with use_language(member.language):
            text = ngettext(
                "Oprit was down from {since} until {until}. {count} message arrived meanwhile.",
                "Oprit was down from {since} until {until}. {count} messages arrived meanwhile.",
                arrived,
            ).format(
                since=timestamp(down_since, zone), until=timestamp(back_at, zone), count=arrived
            )
            reply = Reply(text + "\n" + _("They are all stored and were handled just now."))
        outbox.to_staff(
            session,
            member,
            [reply],
            now=back_at,
            kind="alert",
            priority=outbox.PRIORITY_ALERT,
        )
    return arrived
