"""Staff answering a participant through the bot: who a staff message is for (or why it
goes to nobody), sending it, and telling the staff member how it went.

The rules: in the officer group only a participant's own topic relays; in a private chat
an explicit reply to an alert or a copied message decides, a reply to anything else
reaches nobody (and says so); *Reply* applies to one plain message in the chat where it
was pressed, within OPRIT_REPLY_WINDOW.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.choices import new_token
from bot.conversation.events import Address
from bot.conversation.replies import Reply
from bot.i18n import _, ngettext
from bot.services.access import may_see, not_allowed
from db import flow_states, people, topics
from db import outbox as outbox_db
from db.enums import Action, Channel, ParticipantStatus
from db.flow_states import Owner
from db.models import Participant, Staff

RELAY_FLOW = "relay"
MAX_RELAY = 4000


def _owner(staff: Staff) -> Owner:
    return Owner(staff_id=staff.id, channel=Channel.TELEGRAM)


async def start(
    session: AsyncSession, staff: Staff, participant: Participant, chat_id: int, now: datetime
) -> None:
    """The next plain message this staff member writes in this chat goes to this
    participant (within the reply window)."""
    await flow_states.save(
        session,
        _owner(staff),
        RELAY_FLOW,
        "text",
        new_token(),
        {"participant_id": participant.id, "chat_id": chat_id, "at": now.isoformat()},
        now,
    )


class RelayVerdict(StrEnum):
    """What a staff message that is not a command means."""

    RELAY = "relay"  # goes to `participant`
    NOBODY = "nobody"  # an explicit reply to something that is about no one participant
    EXPIRED = "expired"  # a plain message after the *Reply* window closed
    NOT_ALLOWED = "not_allowed"  # the participant is not this staff member's
    NONE = "none"  # a plain message with no target: help or a guided flow's answer


@dataclass(frozen=True)
class RelayTarget:
    """Who a staff message goes to, or why it goes nowhere."""

    verdict: RelayVerdict
    participant: Participant | None = None


async def target(
    session: AsyncSession,
    staff: Staff,
    *,
    chat_id: int,
    replied_message_id: int | None,
    forum_thread_id: int | None,
    in_forum: bool,
    now: datetime,
    reply_window: timedelta,
) -> RelayTarget:
    """Who a staff message is for.

    In the officer group only a participant's own topic relays (the general topic and
    staff-only topics never do). In a private chat, an explicit Telegram reply decides: to
    an alert or a copied message, that participant; to anything else, nobody. Only a plain
    message that replies to nothing uses the *Reply* button pressed in this same chat, for
    one message, within `reply_window`.
    """
    participant_id: int | None = None
    if in_forum:
        by_topic = (
            await topics.participant_by_topic(session, forum_thread_id)
            if forum_thread_id is not None
            else None
        )
        if by_topic is None:
            return RelayTarget(RelayVerdict.NONE)
        participant_id = by_topic.id
    elif replied_message_id is not None:
        posted = await outbox_db.posted(session, chat_id, replied_message_id)
        if posted is None or posted[0] not in outbox.RELAY_ANCHORS or posted[1] is None:
            return RelayTarget(RelayVerdict.NOBODY)
        participant_id = posted[1]
    else:
        state = await flow_states.get(session, _owner(staff))
        if state is None or state.flow != RELAY_FLOW:
            return RelayTarget(RelayVerdict.NONE)
        data = state.data or {}
        if data.get("chat_id") != chat_id:
            return RelayTarget(RelayVerdict.NONE)
        await flow_states.clear(session, _owner(staff))
        pressed_at = datetime.fromisoformat(str(data.get("at") or state.updated_at.isoformat()))
        if now - pressed_at > reply_window:
            return RelayTarget(RelayVerdict.EXPIRED)
        participant_id = data.get("participant_id")
    participant = (
        await people.participant_by_id(session, int(participant_id))
        if participant_id is not None
        else None
    )
    if participant is None or not may_see(staff, participant):
        return RelayTarget(RelayVerdict.NOT_ALLOWED)
    return RelayTarget(RelayVerdict.RELAY, participant)


def refused(verdict: RelayVerdict, reply_window: timedelta) -> Reply:
    """Said when a staff message was not relayed to anyone."""
    if verdict is RelayVerdict.EXPIRED:
        minutes = max(1, int(reply_window.total_seconds() // 60))
        return Reply(
            ngettext(
                "Not sent: the Reply button is valid for {count} minute. Tap ✍️ Reply again.",
                "Not sent: the Reply button is valid for {count} minutes. Tap ✍️ Reply again.",
                minutes,
            ).format(count=minutes)
        )
    if verdict is RelayVerdict.NOBODY:
        return Reply(
            _(
                "Not sent: that message is not about one participant. To answer someone, "
                "reply to their alert or tap ✍️ Reply."
            )
        )
    return not_allowed()


async def send(
    session: AsyncSession,
    staff: Staff,
    participant: Participant,
    *,
    text: str | None,
    source_chat_id: int,
    source_message_id: int,
    source_thread_id: int | None,
    has_media: bool,
    now: datetime,
) -> list[Reply]:
    """Send a staff member's message to a participant; "→ name: delivered" comes later."""
    if participant.status == ParticipantStatus.PAUSED:
        return [
            Reply(_("Not sent: {name} paused the chat with /stop.").format(name=participant.name))
        ]
    address = outbox.address_of(participant)
    if participant.status == ParticipantStatus.UNREACHABLE or address is None:
        return [
            Reply(
                _("Not sent: {name} cannot be reached (blocked the bot).").format(
                    name=participant.name
                )
            )
        ]
    if not has_media and not (text or "").strip():
        return [Reply(_("Not sent: the message is empty."))]
    if text is not None and len(text) > MAX_RELAY:
        return [Reply(_("Not sent: the message is too long (at most 4000 characters)."))]
    confirm = {
        "chat_id": source_chat_id,
        "message_id": source_message_id,
        "thread_id": source_thread_id,
    }
    if has_media:
        outbox.copy(
            session,
            address,
            Address(Channel.TELEGRAM, source_chat_id),
            source_message_id,
            now=now,
            kind="relay",
            priority=outbox.PRIORITY_REPLY,
            participant_id=participant.id,
            staff_id=staff.id,
            confirm=confirm,
        )
        return []
    outbox_db.add(
        session,
        kind="relay",
        priority=outbox.PRIORITY_REPLY,
        action=Action.MESSAGE,
        channel=address.channel,
        chat_id=address.chat,
        payload={"text": text or "", "confirm": confirm},
        participant_id=participant.id,
        staff_id=staff.id,
        due_at=now,
    )
    return []


def delivered_reply(participant: Participant, source_message_id: object) -> Reply:
    """Told to the staff member once their message reached the participant."""
    return Reply(
        # Translators: confirmation under a staff member's message that went to a participant
        _("→ {name}: delivered").format(name=participant.name),
        about=participant.id,
        reply_to=source_message_id if isinstance(source_message_id, int) else None,
    )


def failed_reply(participant_name: str, reason: str) -> Reply:
    """Told to the staff member when a relayed message could not be delivered."""
    if reason == "blocked":
        return Reply(_("Not delivered: {name} blocked the bot.").format(name=participant_name))
    return Reply(_("Not delivered to {name}. Please try again.").format(name=participant_name))
