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
from bot.conversation.choices import choice_id, new_token
from bot.conversation.events import Address
from bot.conversation.replies import Choice, Reply
from bot.i18n import _, current_language, language_name, ngettext, use_language
from bot.services.access import may_see, not_allowed
from db import flow_states, people, topics
from db import outbox as outbox_db
from db.enums import Action, Channel, ParticipantStatus, Role
from db.flow_states import Owner
from db.models import Participant, Staff

RELAY_FLOW = "relay"  # the flow state of a pressed *Reply*
FLOW_ID = "rp"  # the buttons *Reply* and *Cancel* (bot.flows.reply_to)
MAX_RELAY = 4000
CAPTIONED = ("photo", "voice", "document")  # copies that can carry the sender's line
CAPTION_LIMIT = 1024


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
    kind: str,
    now: datetime,
) -> list[Reply]:
    """Send a staff member's message to a participant, under a line that says who wrote
    it; "✓ Sent to name" comes once it arrived. `kind` is the message's kind (text, photo,
    voice, ...): anything but text is copied as it is."""
    has_media = kind not in ("text", "command")
    address = outbox.address_of(participant)
    refused = refusal(participant, text, has_media=has_media)
    if refused is not None or address is None:
        return [refused or not_allowed()]
    confirm: dict[str, object] = {
        "chat_id": source_chat_id,
        "message_id": source_message_id,
        "thread_id": source_thread_id,
    }
    with use_language(participant.language):
        label = sender_label(staff)
    if has_media and kind not in CAPTIONED:
        _queue_text(session, staff, participant, address, label, None, now)
    if has_media:
        caption = label if kind not in CAPTIONED else "\n".join(filter(None, [label, text]))
        outbox.copy(
            session,
            address,
            Address(Channel.TELEGRAM, source_chat_id),
            source_message_id,
            now=now,
            kind="relay",
            priority=outbox.PRIORITY_REPLY,
            caption=caption[:CAPTION_LIMIT] if kind in CAPTIONED else None,
            participant_id=participant.id,
            staff_id=staff.id,
            confirm=confirm,
        )
        return []
    _queue_text(session, staff, participant, address, label, confirm, now, said=text or "")
    return []


def refusal(participant: Participant, text: str | None, *, has_media: bool = False) -> Reply | None:
    """Why a staff message cannot go to this participant, or None when it can."""
    if (
        participant.status == ParticipantStatus.UNREACHABLE
        or outbox.address_of(participant) is None
    ):
        return Reply(
            _("Not sent: {name} cannot be reached (blocked the bot).").format(name=participant.name)
        )
    if not has_media and not (text or "").strip():
        return Reply(_("Not sent: the message is empty."))
    if text is not None and len(text) > MAX_RELAY:
        return Reply(_("Not sent: the message is too long (at most 4000 characters)."))
    return None


def send_text(
    session: AsyncSession, staff: Staff, participant: Participant, text: str, now: datetime
) -> Reply | None:
    """A text written outside Telegram (the dashboard) to a participant, through the outbox
    like a chat reply; the refusal, or None once it is queued (the page shows its state)."""
    refused = refusal(participant, text)
    address = outbox.address_of(participant)
    if refused is not None or address is None:
        return refused or not_allowed()
    with use_language(participant.language):
        label = sender_label(staff)
    _queue_text(session, staff, participant, address, f"{label}\n{text}", None, now)
    return None


def _queue_text(
    session: AsyncSession,
    staff: Staff,
    participant: Participant,
    address: Address,
    label: str,
    confirm: dict[str, object] | None,
    now: datetime,
    *,
    said: str | None = None,
) -> None:
    """Queue the label (who writes) and what they wrote as one message; `said` alone is
    what the conversation keeps, the label is the same for every message of this writer."""
    payload: dict[str, object] = {"text": label if said is None else f"{label}\n{said}"}
    if said is not None:
        payload["said"] = said
    if confirm is not None:
        payload["confirm"] = confirm
    outbox.call(
        session,
        Action.MESSAGE,
        address,
        payload,
        now=now,
        kind="relay",
        priority=outbox.PRIORITY_REPLY,
        participant_id=participant.id,
        staff_id=staff.id,
    )


def sender_label(staff: Staff) -> str:
    """The line above a staff member's message, in the reader's language (the current one)."""
    if staff.role == Role.COORDINATOR:
        # Translators: above a message a coordinator wrote to a participant
        return _("💬 {name}, coordinator:").format(name=staff.name)
    # Translators: above a message the participant's officer wrote to them
    return _("💬 {name}, your officer:").format(name=staff.name)


def prompt(participant: Participant) -> Reply:
    """After *Reply*: who the next message goes to, which language they read, and a way
    out."""
    reads = language_name(participant.language, current_language())
    return Reply(
        _("Reply to {name} (reads {language}). Your next message goes to them as it is.").format(
            name=participant.name, language=reads
        ),
        [[Choice(choice_id(FLOW_ID, str(participant.id), "cancel"), _("Cancel"))]],
        about=participant.id,
    )


async def forget(session: AsyncSession, staff: Staff) -> bool:
    """Drop a pending *Reply* (any command cancels it); True when there was one."""
    state = await flow_states.get(session, _owner(staff))
    if state is None or state.flow != RELAY_FLOW:
        return False
    await flow_states.clear(session, _owner(staff))
    return True


def delivered_reply(participant: Participant, source_message_id: object) -> Reply:
    """Told to the staff member once their message reached the participant."""
    return Reply(
        # Translators: confirmation under a staff member's message that went to a participant
        _("✓ Sent to {name}").format(name=participant.name),
        about=participant.id,
        reply_to=source_message_id if isinstance(source_message_id, int) else None,
    )


def failed_reply(participant_name: str, reason: str) -> Reply:
    """Told to the staff member when a relayed message could not be delivered."""
    if reason == "blocked":
        return Reply(_("Not delivered: {name} blocked the bot.").format(name=participant_name))
    return Reply(_("Not delivered to {name}. Please try again.").format(name=participant_name))
