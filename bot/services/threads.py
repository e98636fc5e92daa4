"""Forum mode: each participant's topic name shows where their case stands.

🆘 an open help request · ⏳ an alert nobody acknowledged yet · 💬 quiet.
"""

from __future__ import annotations

from bot.conversation import outbox
from bot.conversation.events import Address
from bot.runtime import Tx
from db import reports, state, topics
from db.enums import Action, Channel
from db.models import Participant

MARKS = {"request": "🆘", "waiting": "⏳", "quiet": "💬"}


def case_state(open_requests: int, open_alerts: int) -> str:
    """The case state a topic name shows."""
    if open_requests:
        return "request"
    return "waiting" if open_alerts else "quiet"


async def refresh_title(tx: Tx, participant: Participant) -> None:
    """Rename the participant's topic when their case state changed."""
    group = tx.routing.officer_group
    if group is None or not participant.forum_topic_id or participant.forum_topic_id <= 0:
        return
    requests, alerts = await reports.open_counts(tx.session, participant.id)
    title = f"{MARKS[case_state(requests, alerts)]} {topics.title_for(participant)}"[:128]
    key = f"topic_title:{participant.id}"
    if await state.compare_and_set(tx.session, key, title, tx.now, participant_id=participant.id):
        outbox.call(
            tx.session,
            Action.THREAD_TITLE,
            Address(Channel.TELEGRAM, group),
            {"message_thread_id": participant.forum_topic_id, "name": title},
            now=tx.now,
            participant_id=participant.id,
        )
