"""What the officer's web dashboard shows and does, over the same access rules, outbox and
audit log as the chat: the caseload, one participant's page, the alert queue, and the
actions (reply, acknowledge, resolve, pause, resume). Nothing here knows HTTP.

A participant the staff member may not see is reported exactly like one that does not
exist (None), so the page cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.conversation import outbox
from bot.conversation.replies import Reply
from bot.runtime import Tx
from bot.services import alert_handling, relay, staff_alerts
from bot.services.access import may_see, officer_scope
from db import audit, cases, people
from db import dashboard as queries
from db.enums import AlertStatus, Direction, ParticipantStatus, Role
from db.models import (
    Alert,
    Appointment,
    Checkin,
    HelpRequest,
    Message,
    OutboxItem,
    Participant,
    Staff,
)

HISTORY = timedelta(days=182)  # how far back a participant's page reaches
NEWEST_MESSAGES = 50  # messages per page of a participant's timeline ("Older" for more)
PAGE_SIZE = 100
# Button presses are answers inside a flow (the check-in shows its answers itself).
HIDDEN_KINDS = ("callback",)


def _audit(tx: Tx, staff: Staff, action: str, participant_id: int | None, **detail: object) -> None:
    audit.add(
        tx.session,
        action,
        actor="staff",
        actor_telegram_id=staff.telegram_id,
        participant_id=participant_id,
        detail={"via": "web", **detail},
        at=tx.now,
    )


@dataclass(frozen=True)
class CaseloadPage:
    """One page of the caseload table."""

    rows: Sequence[queries.CaseloadRow]
    total: int
    page: int
    pages: int
    languages: Sequence[str]


async def caseload(
    tx: Tx,
    staff: Staff,
    *,
    search: str = "",
    show: str = "all",
    language: str | None = None,
    sort: str = "attention",
    descending: bool = False,
    page: int = 0,
) -> CaseloadPage:
    """The participants this staff member may see, as asked."""
    scope = officer_scope(staff)
    query = queries.CaseloadQuery(
        officer_id=scope,
        reader_telegram_id=staff.telegram_id,
        search=search.strip()[:100],
        show=show if show in queries.FILTERS else "all",
        language=language or None,
        sort=sort if sort in queries.SORTS else "attention",
        descending=descending,
        limit=PAGE_SIZE,
        offset=max(0, page) * PAGE_SIZE,
        missed_alert=tx.settings.missed_checkins_alert,
    )
    rows, total = await queries.caseload(tx.session, query, tx.now)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return CaseloadPage(
        rows, total, max(0, page), pages, await queries.languages(tx.session, scope)
    )


@dataclass(frozen=True)
class TimelineItem:
    """One message on a participant's page."""

    id: int
    at: datetime
    direction: str  # in, out (a staff member wrote it), bot
    kind: str
    text: str | None
    writer: str | None
    alert: Alert | None
    matches: Sequence[str] = ()
    has_media: bool = False


@dataclass(frozen=True)
class ParticipantPage:
    """Everything on one participant's page."""

    participant: Participant
    officer: str | None
    timeline: Sequence[TimelineItem]
    messages: int  # in the period
    loaded: int  # the ones read for the page
    older: int | None  # the message to link "Older messages" before; None: no more
    paged: bool  # an older page (not the newest messages)
    checkins: Sequence[Checkin]
    help_requests: Sequence[HelpRequest]
    appointments: Sequence[Appointment]
    alerts: Sequence[Alert]
    undelivered: Sequence[OutboxItem]
    reasons: dict[int, str]  # alert id: why it was raised, in the reader's language
    reachable: bool = field(default=True)


async def visible_participant(tx: Tx, staff: Staff, participant_id: int) -> Participant | None:
    """The participant, if this staff member may see them."""
    participant = await people.participant_by_id(tx.session, participant_id)
    if participant is None or not may_see(staff, participant):
        return None
    return participant


async def participant_page(
    tx: Tx, staff: Staff, participant_id: int, before: int | None = None
) -> ParticipantPage | None:
    """One participant's page (audited as a case read, like /case): the newest messages,
    or with `before` (a message id) the ones older than that message."""
    participant = await visible_participant(tx, staff, participant_id)
    if participant is None:
        return None
    session, since = tx.session, tx.now - HISTORY
    _audit(tx, staff, queries.CASE_READ, participant.id)
    address = outbox.address_of(participant)
    start = await session.get(Message, before) if before is not None else None
    events = await cases.timeline(
        session,
        participant.id,
        address.chat if address else None,
        since,
        NEWEST_MESSAGES + 1,  # one more than shown: whether an older page exists
        (start.at, start.id)
        if start is not None and start.participant_id == participant.id
        else None,
    )
    conversation = list(events.conversation)
    more = len(conversation) > NEWEST_MESSAGES
    conversation = conversation[1:] if more else conversation
    officer = await session.get(Staff, participant.officer_id) if participant.officer_id else None
    alerts = await queries.participant_alerts(session, participant.id)
    return ParticipantPage(
        participant=participant,
        officer=officer.name if officer else None,
        timeline=[
            _item(message, alert, writer)
            for message, alert, writer in conversation
            if message.kind not in HIDDEN_KINDS and (message.text or message.kind != "text")
        ],
        messages=events.messages,
        loaded=len(conversation),
        older=conversation[0][0].id if more and conversation else None,
        paged=start is not None,
        checkins=await queries.completed_checkins(session, participant.id, since),
        help_requests=events.help_requests,
        appointments=events.appointments,
        alerts=alerts,
        undelivered=await queries.undelivered_replies(session, participant.id, tx.now - HISTORY),
        reasons=await _reasons(tx, alerts),
        reachable=participant.status != ParticipantStatus.UNREACHABLE and address is not None,
    )


async def _reasons(tx: Tx, alerts: Sequence[Alert]) -> dict[int, str]:
    found = {}
    for alert in alerts:
        request = (
            await tx.session.get(HelpRequest, alert.help_request_id)
            if alert.help_request_id
            else None
        )
        found[alert.id] = staff_alerts.reason(alert, request)
    return found


def _item(message: Message, alert: Alert | None, writer: str | None) -> TimelineItem:
    if message.direction == Direction.IN:
        direction = "in"
    else:
        direction = "out" if writer is not None else "bot"
    text = message.text  # a staff member's words are stored as written; `writer` says who
    matches = [str(m) for m in (alert.matches or []) if str(m)] if alert is not None else []
    return TimelineItem(
        message.id,
        message.at,
        direction,
        message.kind,
        text,
        writer,
        alert,
        matches,
        has_media=bool(message.media_file_id),
    )


def highlight(text: str, words: Sequence[str]) -> list[tuple[str, bool]]:
    """The text in pieces, each marked whether it is one of the matched words (any case),
    so a page can highlight them without building HTML from the text."""
    if not words or not text:
        return [(text, False)]
    lower = text.lower()
    spans: list[tuple[int, int]] = []
    for word in sorted({w.lower() for w in words if w.strip()}, key=len, reverse=True):
        start = lower.find(word)
        while start != -1:
            end = start + len(word)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = lower.find(word, end)
    pieces: list[tuple[str, bool]] = []
    position = 0
    for start, end in sorted(spans):
        if start > position:
            pieces.append((text[position:start], False))
        pieces.append((text[start:end], True))
        position = end
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


async def reply(tx: Tx, staff: Staff, participant_id: int, text: str) -> Reply | bool | None:
    """Send a text to a participant through the outbox, like a chat reply. False: not
    allowed (not found); a Reply: why it was not sent; None: queued."""
    participant = await visible_participant(tx, staff, participant_id)
    if participant is None:
        return False
    cleaned = text.replace("\x00", "").replace("\r\n", "\n")
    refused = relay.send_text(tx.session, staff, participant, cleaned, tx.now)
    if refused is None:
        _audit(tx, staff, "web_reply", participant.id)
        tx.runtime.wake_outbox()
    return refused


async def alert_action(tx: Tx, staff: Staff, alert_id: int, action: str) -> Alert | None:
    """Acknowledge or resolve an alert; None when it is not one this staff member sees."""
    alert = await queries.alert_by_id(tx.session, alert_id)
    participant = (
        await visible_participant(tx, staff, alert.participant_id)
        if alert is not None and alert.participant_id is not None
        else None
    )
    if alert is None or participant is None or action not in ("ack", "resolve"):
        return None
    if action == "ack":
        changed = await alert_handling.acknowledge(tx, staff, alert, participant)
    else:
        changed = await alert_handling.resolve(tx, staff, alert, participant)
    if changed:
        _audit(tx, staff, f"web_alert_{action}", participant.id, alert=alert.id)
        tx.runtime.wake_outbox()
    return alert


async def set_paused(tx: Tx, staff: Staff, participant_id: int, paused: bool) -> bool:
    """Pause (no automatic messages: prompts, reminders, broadcasts) or resume a
    participant; False when not allowed or not in a state that can change so."""
    participant = await visible_participant(tx, staff, participant_id)
    if participant is None:
        return False
    before = ParticipantStatus.ACTIVE if paused else ParticipantStatus.PAUSED
    if participant.status != before:
        return False
    participant.status = ParticipantStatus.PAUSED if paused else ParticipantStatus.ACTIVE
    _audit(tx, staff, "participant_paused" if paused else "participant_resumed", participant.id)
    return True


@dataclass(frozen=True)
class QueuedAlert:
    """One alert in the queue, with when it escalates (None: it does not, or did)."""

    alert: Alert
    participant: Participant
    escalates_at: datetime | None
    reason: str


async def alert_queue(tx: Tx, staff: Staff) -> list[QueuedAlert]:
    """Alerts not resolved across the caseload, most severe and oldest first."""
    rows = await cases.open_alerts(tx.session, officer_scope(staff), limit=100)
    after = tx.settings.escalation_after
    reasons = await _reasons(tx, [alert for alert, _participant in rows])
    queued = [
        QueuedAlert(
            alert,
            participant,
            alert.created_at + after
            if alert.status == AlertStatus.OPEN
            and alert.severity in ("high", "critical")
            and alert.escalated_at is None
            else None,
            reasons[alert.id],
        )
        for alert, participant in rows
    ]
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    return sorted(queued, key=lambda q: (rank.get(q.alert.severity, 4), q.alert.created_at))


async def team(tx: Tx, staff: Staff) -> list[queries.TeamRow] | None:
    """The team page: coordinators only (None for anyone else)."""
    if staff.role != Role.COORDINATOR:
        return None
    return await queries.team(tx.session)


async def change_mark(tx: Tx, staff: Staff, participant_id: int | None) -> str | None:
    """What the open page polls; None when the participant is not visible."""
    if participant_id is not None and await visible_participant(tx, staff, participant_id) is None:
        return None
    return await queries.change_mark(tx.session, participant_id, officer_scope(staff))
