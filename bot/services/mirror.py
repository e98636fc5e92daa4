"""Showing the officer what a participant writes.

In forum mode (OPRIT_OFFICER_CHAT_ID) everything goes to the participant's topic. In
private-chat mode every everyday message reaches the responsible staff member as a compact
copy (*💬 Sam: thuis bij mijn moeder*) with a *Reply* button; the messages of one burst
(BURST) share one copy that is edited as more arrive, so a caseload of 40 does not flood
the chat, and an answer after the officer wrote to the participant always starts a new
copy (a new message notifies, an edit does not). A flagged message is not copied: its
alert carries it. A staff member can mute a participant's everyday messages (/mute).
Photos, voice notes and files are copied as they are, with the participant's name.
"""

from __future__ import annotations

from datetime import timedelta

from bot.conversation import inbound, outbox
from bot.conversation.choices import choice_id
from bot.conversation.events import Address
from bot.conversation.replies import Choice, Reply
from bot.i18n import _, use_language
from bot.runtime import Tx
from bot.services import relay
from bot.services.staff_alerts import responsible_staff
from db import mutes
from db import outbox as outbox_db
from db.enums import Action, Channel, OutboxStatus
from db.models import Message, OutboxItem, Participant, Staff

MEDIA_KINDS = ("photo", "voice", "document")
BURST = timedelta(minutes=10)
COPY_LIMIT = 3500  # a longer burst starts a new copy (Telegram takes 4,096 characters)
COPY = outbox.STAFF_COPY
EDIT = outbox.STAFF_COPY_EDIT


async def mirror_message(
    tx: Tx, participant: Participant, message: Message, *, everyday: bool
) -> bool:
    """Show the officer what the participant sent; returns whether a staff member sees it
    (for the acknowledgement). `everyday`: a message of their own the officer should read
    in private-chat mode (not a command, a button or a flagged message)."""
    source = outbox.address_of(participant)
    if source is None or message.telegram_message_id is None:
        return False
    group = tx.routing.officer_group
    if group is not None:
        _to_topic(tx, group, participant, message, source)
        return True
    if message.kind in MEDIA_KINDS:
        return await _copy_media(tx, participant, message, source)
    shared = inbound.shared_item(message.detail)
    if message.kind in ("location", "other") and (shared or message.text):
        line = shared or f"{'📍' if message.kind == 'location' else '•'} {message.text}"
        for member in await responsible_staff(tx.session, participant):
            outbox.to_staff(
                tx.session,
                member,
                [Reply(f"{participant.name}: {line}")],
                now=tx.now,
                kind=COPY,
                priority=outbox.PRIORITY_PROMPT,
                about=participant.id,
            )
        return True
    if not everyday or message.kind not in ("text", "edit") or not message.text:
        return False
    seen = False
    for member in await responsible_staff(tx.session, participant):
        if await mutes.is_muted(tx.session, member.id, participant.id):
            continue
        seen = True
        line = f"✏️ {message.text}" if message.kind == "edit" else message.text
        await _copy_text(tx, member, participant, line)
    return seen


async def _copy_text(tx: Tx, staff: Staff, participant: Participant, line: str) -> None:
    """Add a line to the burst's copy, or start a new copy."""
    session = tx.session
    since = tx.now - BURST
    latest = await outbox_db.latest_of(session, COPY, staff.id, participant.id, since)
    answered = await outbox_db.wrote_to_since(
        session, staff.id, participant.id, latest.due_at if latest else since
    )
    text = (latest.payload or {}).get("text", "") if latest is not None else ""
    joined = f"{text}\n{line}"
    if latest is not None and not answered and len(joined) > COPY_LIMIT:
        # A flood: one full copy per burst is enough; the rest is in /case.
        with use_language(staff.language):
            more = _("… more in /case {name}").format(name=participant.name)
        if not text.endswith(more):
            joined = f"{text}\n{more}"
            latest.payload = {**(latest.payload or {}), "text": joined}
            if latest.status == OutboxStatus.SENT and latest.telegram_message_id is not None:
                await _edit_copy(tx, staff, participant, latest, joined)
        return
    if latest is None or answered or latest.status == OutboxStatus.SENDING:
        with use_language(staff.language):
            reply = _copy(participant, f"💬 {participant.name}: {line}")
        outbox.to_staff(
            session,
            staff,
            [reply],
            now=tx.now,
            kind=COPY,
            priority=outbox.PRIORITY_REPLY if answered else outbox.PRIORITY_PROMPT,
            about=participant.id,
        )
        return
    latest.payload = {**(latest.payload or {}), "text": joined}
    if latest.status != OutboxStatus.SENT or latest.telegram_message_id is None:
        return  # not sent yet: it goes out with the new line
    await _edit_copy(tx, staff, participant, latest, joined)


async def _edit_copy(
    tx: Tx, staff: Staff, participant: Participant, copy: OutboxItem, text: str
) -> None:
    """Edit a sent copy; an edit still waiting is updated instead of queuing another."""
    session = tx.session
    waiting = await outbox_db.latest_of(session, EDIT, staff.id, participant.id, copy.due_at)
    payload = {**(copy.payload or {}), "text": text, "message_id": copy.telegram_message_id}
    if waiting is not None and waiting.status == OutboxStatus.PENDING:
        waiting.payload = payload
        return
    outbox.call(
        session,
        Action.EDIT,
        Address(Channel.TELEGRAM, copy.chat_id),
        payload,
        now=tx.now,
        kind=EDIT,
        priority=outbox.PRIORITY_PROMPT,
        participant_id=participant.id,
        staff_id=staff.id,
    )


def cross_messenger_note(message: Message) -> str:
    """What staff on Telegram read for a file a participant sent on another messenger
    (it cannot be copied across), with its caption."""
    # Translators: a participant on Signal sent a photo, voice message or file; staff on
    # Telegram cannot see it
    note = "📎 " + _("a photo, voice message or file, only visible on Signal")
    return f"{note}: {message.text}" if message.text else note


def _copy(participant: Participant, text: str) -> Reply:
    """A copy with its *Reply* button (replying to the copy in Telegram works too)."""
    button = Choice(choice_id(relay.FLOW_ID, str(participant.id), "reply"), _("✍️ Reply"))
    return Reply(text, [[button]], about=participant.id)


async def _copy_media(tx: Tx, participant: Participant, message: Message, source: Address) -> bool:
    assert message.telegram_message_id is not None
    header = participant.name
    caption = (f"{header}: {message.text}" if message.text else header)[:1024]
    seen = False
    for member in await responsible_staff(tx.session, participant):
        address = outbox.staff_address(member)
        seen = True
        if address.channel != source.channel:  # a copy cannot cross messengers
            with use_language(member.language):
                note = _copy(participant, f"{participant.name}: {cross_messenger_note(message)}")
            outbox.to_staff(
                tx.session,
                member,
                [note],
                now=tx.now,
                kind=COPY,
                priority=outbox.PRIORITY_ALERT,
                about=participant.id,
            )
            continue
        outbox.copy(
            tx.session,
            address,
            source,
            message.telegram_message_id,
            now=tx.now,
            kind=COPY,
            priority=outbox.PRIORITY_ALERT,
            caption=caption,
            participant_id=participant.id,
        )
    return seen


def _to_topic(
    tx: Tx, group: int, participant: Participant, message: Message, source: Address
) -> None:
    """Forum mode: everything into the participant's topic."""
    shared = inbound.shared_item(message.detail)
    if message.kind in ("callback", "edit", "location", "other"):
        label = {"callback": "🔘", "edit": "✏️", "location": "📍"}.get(message.kind, "•")
        _line(tx, group, participant, shared or f"{label} {message.text or ''}".strip())
        return
    if shared:  # a forward: say where it came from
        _line(tx, group, participant, shared)
    assert message.telegram_message_id is not None
    if source.channel != Channel.TELEGRAM:  # a copy cannot cross messengers: say what came
        with use_language(tx.settings.default_language):
            line = None if message.kind in MEDIA_KINDS else message.text
            _line(tx, group, participant, line or cross_messenger_note(message))
        return
    caption = None
    if message.kind in MEDIA_KINDS:
        header = participant.name
        caption = (f"{header}: {message.text}" if message.text else header)[:1024]
    outbox.copy(
        tx.session,
        Address(Channel.TELEGRAM, group),
        source,
        message.telegram_message_id,
        now=tx.now,
        kind=COPY,
        priority=outbox.PRIORITY_PROMPT,
        caption=caption,
        participant_id=participant.id,
    )


def _line(tx: Tx, group: int, participant: Participant, line: str) -> None:
    outbox.to_officer_group(
        tx.session,
        group,
        participant,
        [Reply(line)],
        now=tx.now,
        kind=COPY,
        priority=outbox.PRIORITY_PROMPT,
    )
