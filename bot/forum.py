"""Forum mode: each participant's topic name shows where their case stands.

🆘 an open help request · ⏳ an alert nobody acknowledged yet · 💬 quiet.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox
from bot.officer_alerts import Routing
from db import reports, state, topics
from db.models import Participant

MARKS = {"request": "🆘", "waiting": "⏳", "quiet": "💬"}


def case_state(open_requests: int, open_alerts: int) -> str:
    """The case state a topic name shows."""
    if open_requests:
        return "request"
    return "waiting" if open_alerts else "quiet"


async def refresh_title(session: AsyncSession, participant: Participant, now: datetime) -> None:
    """Rename the participant's topic when their case state changed."""
    forum = Routing.forum_chat_id
    if forum is None or not participant.forum_topic_id or participant.forum_topic_id <= 0:
        return
    requests, alerts = await reports.open_counts(session, participant.id)
    title = f"{MARKS[case_state(requests, alerts)]} {topics.title_for(participant)}"[:128]
    key = f"topic_title:{participant.id}"
    if await state.compare_and_set(session, key, title, now, participant_id=participant.id):
        outbox.enqueue_call(
            session,
            "editForumTopic",
            forum,
            {"message_thread_id": participant.forum_topic_id, "name": title},
            now=now,
            participant_id=participant.id,
        )
