"""What officers and coordinators do in the chat: act on alerts, answer participants,
invite, look at a case, see open alerts.

Every action checks the staff member's role in the database at that moment (the gate
reads the row fresh for every update). Officers see their own participants (and those
without an officer); backup officers and coordinators see everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import forum, helprequest, officer_alerts, outbox, registration
from bot.flows import ChoiceId, choice_id, clean, display_name, new_token
from bot.i18n import _, ngettext, timestamp
from bot.labels import domain_label, help_reference, help_status_label, mood_label
from bot.officer_alerts import SEVERITY_MARK
from bot.replies import Choice, Reply
from db import cases, conversation, people, reports, topics
from db import outbox as outbox_db
from db.models import Alert, HelpRequest, Participant, Staff

RELAY_FLOW = "relay"
MAX_RELAY = 4000
PAGE = 10
CASE_DAYS = 30


def sees_everyone(staff: Staff) -> bool:
    """Coordinators and backup officers see every participant."""
    return staff.role == "coordinator" or staff.is_backup


def may_see(staff: Staff, participant: Participant) -> bool:
    """Whether this staff member may read or act on this participant."""
    return staff.active and (sees_everyone(staff) or participant.officer_id in (None, staff.id))


def _scope_officer(staff: Staff) -> int | None:
    return None if sees_everyone(staff) else staff.id


def not_allowed() -> Reply:
    """The same answer for 'no such participant' and 'not yours': nothing leaks."""
    return Reply(_("I cannot find that, or it is not one of your participants."))


async def alert_action(
    session: AsyncSession, staff: Staff, choice: ChoiceId, chat_id: int, now: datetime
) -> list[Reply]:
    """*Reply*, *Acknowledge* or *Resolved* on an alert."""
    alert = await session.get(Alert, int(choice.token)) if choice.token.isdigit() else None
    participant = (
        await people.participant_by_id(session, alert.participant_id)
        if alert is not None and alert.participant_id is not None
        else None
    )
    if alert is None or participant is None or not may_see(staff, participant):
        return [not_allowed()]
    if choice.value == "reply":
        await start_relay(session, staff, participant, chat_id, now)
        return [
            Reply(
                _("Write your answer to {name}. It goes to them as it is.").format(
                    name=participant.name
                ),
                about=participant.id,
            )
        ]
    request = (
        await session.get(HelpRequest, alert.help_request_id) if alert.help_request_id else None
    )
    if choice.value == "ack":
        if alert.status == "open":
            alert.status = "acknowledged"
            alert.acknowledged_at, alert.acknowledged_by = now, staff.id
        if request is not None and request.status == "open":
            request.status, request.acknowledged_at, request.handled_by = (
                "acknowledged",
                now,
                staff.id,
            )
            _tell_participant(session, participant, request, now)
        await forum.refresh_title(session, participant, now)
        return [
            Reply(_("Acknowledged: {name}.").format(name=participant.name), about=participant.id)
        ]
    if choice.value == "done":
        alert.status = "resolved"
        alert.acknowledged_at = alert.acknowledged_at or now
        alert.acknowledged_by = alert.acknowledged_by or staff.id
        if request is not None and request.status != "resolved":
            request.status, request.resolved_at, request.handled_by = "resolved", now, staff.id
            _tell_participant(session, participant, request, now)
        await forum.refresh_title(session, participant, now)
        return [Reply(_("Resolved: {name}.").format(name=participant.name), about=participant.id)]
    return [not_allowed()]


def _tell_participant(
    session: AsyncSession, participant: Participant, request: HelpRequest, now: datetime
) -> None:
    if participant.telegram_id is None:
        return
    outbox.enqueue(
        session,
        participant.telegram_id,
        [helprequest.status_change_reply(request, participant.language)],
        now=now,
        participant_id=participant.id,
    )


async def start_relay(
    session: AsyncSession, staff: Staff, participant: Participant, chat_id: int, now: datetime
) -> None:
    """The next plain message this staff member writes in this chat goes to this
    participant (within the reply window)."""
    await conversation.save_flow_state(
        session,
        staff.telegram_id,
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


async def relay_target(
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
        state = await conversation.flow_state(session, staff.telegram_id)
        if state is None or state.flow != RELAY_FLOW:
            return RelayTarget(RelayVerdict.NONE)
        data = state.data or {}
        if data.get("chat_id") != chat_id:
            return RelayTarget(RelayVerdict.NONE)
        await conversation.clear_flow_state(session, staff.telegram_id)
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


def relay_refused(verdict: RelayVerdict, reply_window: timedelta) -> Reply:
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


async def relay(
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
    if participant.status == "paused":
        return [
            Reply(_("Not sent: {name} paused the chat with /stop.").format(name=participant.name))
        ]
    if participant.status == "unreachable" or participant.telegram_id is None:
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
    payload: dict[str, Any]
    if has_media:
        payload = {
            "from_chat_id": source_chat_id,
            "message_id": source_message_id,
            "text": text,
            "confirm": confirm,
        }
        method = "copyMessage"
    else:
        payload = {"text": text or "", "confirm": confirm}
        method = "sendMessage"
    outbox_db.add(
        session,
        kind="relay",
        priority=outbox.PRIORITY_REPLY,
        method=method,
        chat_id=participant.telegram_id,
        payload=payload,
        participant_id=participant.id,
        staff_id=staff.id,
        due_at=now,
    )
    return []


def relay_delivered_reply(participant: Participant, source_message_id: object) -> Reply:
    """Told to the staff member once their message reached the participant."""
    return Reply(
        # Translators: confirmation under a staff member's message that went to a participant
        _("→ {name}: delivered").format(name=participant.name),
        about=participant.id,
        reply_to=source_message_id if isinstance(source_message_id, int) else None,
    )


def relay_failed_reply(participant_name: str, reason: str) -> Reply:
    """Told to the staff member when a relayed message could not be delivered."""
    if reason == "blocked":
        return Reply(_("Not delivered: {name} blocked the bot.").format(name=participant_name))
    return Reply(_("Not delivered to {name}. Please try again.").format(name=participant_name))


async def invite(
    session: AsyncSession, staff: Staff, name: str | None, bot_username: str, now: datetime
) -> list[Reply]:
    """/invite [name]: a code and deep link for a new participant of this officer."""
    made = await registration.create_invite(
        session,
        now=now,
        valid_for=timedelta(days=14),
        officer_telegram_id=staff.telegram_id if staff.role == "officer" else None,
        name=name,
        created_by=staff.telegram_id,
    )
    return [
        Reply(
            _("Invite for {name}:\n{link}\nCode: {code}\nValid for 14 days, once.").format(
                name=display_name(name), link=made.link(bot_username), code=made.code
            )
        )
    ]


async def participants_page(
    session: AsyncSession, staff: Staff, page: int, now: datetime, zone: tzinfo
) -> list[Reply]:
    """/participants: one line each, ten per page, with buttons to page."""
    rows = await reports.participant_overview(session, now, _scope_officer(staff))
    if not rows:
        return [Reply(_("No participants yet. Use /invite to add one."))]
    pages = (len(rows) + PAGE - 1) // PAGE
    page = max(0, min(page, pages - 1))
    moods = await reports.recent_moods(
        session, [row.id for row in rows[page * PAGE : (page + 1) * PAGE]]
    )
    lines = []
    for row in rows[page * PAGE : (page + 1) * PAGE]:
        checkin = timestamp(row.last_checkin_at, zone) if row.last_checkin_at else "—"
        appointment = timestamp(row.next_appointment_at, zone) if row.next_appointment_at else "—"
        trend = "".join(_MOOD_MARK.get(m, "·") for m in moods.get(row.id, [])) or "—"
        lines.append(
            _(
                "#{id} {name} ({language}, {status})\n"
                "   check-in: {checkin} {trend} · open requests: {requests} · next: {appointment}"
            ).format(
                id=row.id,
                name=row.name,
                language=row.language,
                status=row.status,
                checkin=checkin,
                trend=trend,
                requests=row.open_help_requests,
                appointment=appointment,
            )
        )
    token = new_token()
    buttons = []
    if page > 0:
        buttons.append(Choice(choice_id("pp", token, str(page - 1)), _("◀ Previous")))
    if page < pages - 1:
        buttons.append(Choice(choice_id("pp", token, str(page + 1)), _("Next ▶")))
    header = _("Participants, page {page} of {pages}:").format(page=page + 1, pages=pages)
    return [Reply(header + "\n" + "\n".join(lines), [buttons] if buttons else [])]


_MOOD_MARK = {"good": "🙂", "okay": "😐", "bad": "🙁"}


async def case(
    session: AsyncSession, staff: Staff, query: str, now: datetime, zone: tzinfo
) -> list[Reply]:
    """/case NAME_OR_ID: the last 30 days of one participant (audited)."""
    query = clean(query).strip()[:100]
    if not query:
        return [Reply(_("Use: /case NAME or /case NUMBER"))]
    found = await cases.find_participants(session, query.lstrip("#"), _scope_officer(staff))
    if not found:
        return [not_allowed()]
    if len(found) > 1:
        names = "\n".join(f"#{p.id} {p.name}" for p in found)
        return [Reply(_("Several people match. Use the number:") + "\n" + names)]
    participant = found[0]
    people.audit(
        session,
        "case_read",
        actor="staff",
        actor_telegram_id=staff.telegram_id,
        participant_id=participant.id,
        at=now,
    )
    events = await cases.timeline(session, participant.id, now - timedelta(days=CASE_DAYS))
    entries: list[tuple[datetime, str]] = []
    for item in events.checkins:
        if item.status == "completed" and item.completed_at:
            problems = [domain_label(d) for d, s in (item.answers or {}).items() if s != "fine"]
            entries.append(
                (
                    item.completed_at,
                    _("Check-in: {mood} {problems}").format(
                        mood=mood_label(item.mood or ""), problems=", ".join(problems)
                    ),
                )
            )
        elif item.status == "missed" and item.prompted_at:
            entries.append((item.prompted_at, _("Check-in missed")))
    for request in events.help_requests:
        entries.append(
            (
                request.created_at,
                f"{help_reference(request.id)} {domain_label(request.domain)}: "
                f"{help_status_label(request.status)}",
            )
        )
    for appointment in events.appointments:
        entries.append(
            (
                appointment.at,
                _("Appointment with {org}: {confirmation}").format(
                    org=appointment.with_org, confirmation=appointment.confirmation
                ),
            )
        )
    for message, alert in events.flagged:
        excerpt = (message.text or "")[:200]
        entries.append((message.at, f"{SEVERITY_MARK.get(alert.severity, '⚪')} “{excerpt}”"))
    entries.sort(key=lambda entry: entry[0])
    header = ngettext(
        "Case #{id} {name} ({status}), last {days} day:",
        "Case #{id} {name} ({status}), last {days} days:",
        CASE_DAYS,
    ).format(id=participant.id, name=participant.name, status=participant.status, days=CASE_DAYS)
    body = "\n".join(f"{timestamp(at, zone)} · {text}" for at, text in entries[-60:])
    return [Reply(header + "\n" + (body or _("Nothing in this period.")), about=participant.id)]


async def open_alerts(session: AsyncSession, staff: Staff) -> list[Reply]:
    """/handled: open alerts, most severe first, each with its buttons."""
    rows = await cases.open_alerts(session, _scope_officer(staff))
    if not rows:
        return [Reply(_("No open alerts. 👍"))]
    rows = sorted(rows, key=lambda pair: officer_alerts.priority_for(pair[0].severity))[:10]
    replies = [Reply(_("Open alerts:"))]
    for alert, participant in rows:
        request = (
            await session.get(HelpRequest, alert.help_request_id) if alert.help_request_id else None
        )
        replies.append(officer_alerts.render(alert, participant, request))
    return replies
