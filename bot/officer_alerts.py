"""Getting alerts to the officer: who receives them, what they read, and in what order.

An alert goes to the participant's own officer (or, without one, to the coordinators,
or to all officers when there is no coordinator) in the officer's private chat. In forum
mode (OPRIT_OFFICER_CHAT_ID) it goes to the participant's topic instead, and a high or
critical alert also goes to the officer's private chat at once, so it never waits behind
the group's message budget. Voice notes and photos are copied along (copyMessage).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import inbound, outbox
from bot.flows import choice_id
from bot.i18n import _, current_language, language_name, ngettext, use_language
from bot.labels import domain_label, help_reference
from bot.replies import Choice, Reply
from db import outbox as outbox_db
from db import staff_queries
from db.models import Alert, HelpRequest, Message, Participant, Staff

FLOW = "al"
SEVERITY_MARK = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵"}
EXCERPT = 1500


class Routing:
    """Where alerts go: set once per process from OPRIT_OFFICER_CHAT_ID."""

    forum_chat_id: int | None = None


def configure(forum_chat_id: int | None) -> None:
    """Send alerts to this forum supergroup (None: officers' private chats)."""
    Routing.forum_chat_id = forum_chat_id


def priority_for(severity: str) -> int:
    """Critical first, then high, then the rest after participant replies."""
    return {
        "critical": outbox.PRIORITY_CRITICAL_ALERT,
        "high": outbox.PRIORITY_HIGH_ALERT,
    }.get(severity, outbox.PRIORITY_ALERT)


async def responsible_staff(session: AsyncSession, participant: Participant) -> Sequence[Staff]:
    """The participant's officer, else the coordinators, else every officer."""
    if participant.officer_id is not None:
        officer = await staff_queries.active_by_id(session, participant.officer_id)
        if officer is not None:
            return [officer]
    return await staff_queries.coordinators(session) or await staff_queries.officers(session)


def _reason(alert: Alert, request: HelpRequest | None) -> str:
    categories = ", ".join(alert.categories or [])
    if alert.kind == "flag":
        matched = ", ".join(f"“{m}”" for m in (alert.matches or []))
        return _("Flagged: {categories}. Words: {words}").format(
            categories=categories, words=matched
        )
    if alert.kind == "help_request" and request is not None:
        return _("Help request {reference}: {domain}").format(
            reference=help_reference(request.id), domain=domain_label(request.domain)
        )
    if alert.kind == "missed_checkins":
        count = int((alert.categories or ["0"])[0] or 0)
        return ngettext(
            "Missed {count} check-in in a row", "Missed {count} check-ins in a row", count
        ).format(count=count)
    if alert.kind == "checkin":
        return _("Check-in: mood or a problem ({categories})").format(categories=categories)
    return {
        "cant_make_it": _("Cannot make it to an appointment"),
        "no_confirmation": _("Did not confirm an appointment"),
        "paused": _("Paused the chat with /stop"),
        "unreachable": _("Cannot be reached: blocked the bot or deleted the chat"),
    }.get(alert.kind, alert.kind)


def render(
    alert: Alert,
    participant: Participant,
    request: HelpRequest | None,
    *,
    escalated: bool = False,
) -> Reply:
    """The alert as the officer reads it, in the current (officer's) language."""
    mark = SEVERITY_MARK.get(alert.severity, "⚪")
    head = f"{mark} {alert.severity.upper()} · {participant.name} (#{participant.id})"
    lines = [_("⏫ Escalated: nobody picked this up yet.") if escalated else "", head]
    lines.append(_reason(alert, request))
    if alert.excerpt:
        excerpt = alert.excerpt if len(alert.excerpt) <= EXCERPT else alert.excerpt[:EXCERPT] + "…"
        lines.append(f"“{excerpt}”")
        reader = current_language()
        if participant.language != reader:
            name = language_name(participant.language, reader)
            lines.append(_("(written in {language})").format(language=name))
    token = str(alert.id)
    choices = [
        [
            Choice(choice_id(FLOW, token, "reply"), _("✍️ Reply")),
            Choice(choice_id(FLOW, token, "ack"), _("👀 Acknowledge")),
            Choice(choice_id(FLOW, token, "done"), _("✅ Resolved")),
        ]
    ]
    return Reply("\n".join(line for line in lines if line), choices, about=participant.id)


async def enqueue(
    session: AsyncSession,
    alert: Alert,
    participant: Participant,
    now: datetime,
    *,
    recipients: Sequence[Staff] | None = None,
    escalated: bool = False,
) -> None:
    """Queue the alert (and a copy of the media it is about) for its recipients."""
    request = (
        await session.get(HelpRequest, alert.help_request_id) if alert.help_request_id else None
    )
    message = await session.get(Message, alert.message_id) if alert.message_id else None
    staff = (
        list(recipients)
        if recipients is not None
        else list(await responsible_staff(session, participant))
    )
    targets: list[tuple[int, int | None, str]] = []
    forum = Routing.forum_chat_id
    if forum is not None and not escalated:
        targets.append((forum, participant.forum_topic_id, staff[0].language if staff else "nl"))
        if alert.severity in ("high", "critical"):
            targets += [(member.telegram_id, None, member.language) for member in staff]
    else:
        targets += [(member.telegram_id, None, member.language) for member in staff]
    priority = priority_for(alert.severity)
    for chat_id, thread_id, language in targets:
        if message is not None and message.media_file_id and participant.telegram_id:
            outbox_db.add(
                session,
                kind="alert",
                priority=priority,
                method="copyMessage",
                chat_id=chat_id,
                message_thread_id=thread_id,
                payload={
                    "from_chat_id": participant.telegram_id,
                    "message_id": message.telegram_message_id,
                },
                participant_id=participant.id,
                alert_id=alert.id,
                due_at=now,
            )
        with use_language(language):
            reply = render(alert, participant, request, escalated=escalated)
        outbox.enqueue(
            session,
            chat_id,
            [reply],
            now=now,
            kind="alert",
            priority=priority,
            participant_id=participant.id,
            alert_id=alert.id,
            message_thread_id=thread_id,
        )


def unreachable_staff_notice(staff: Staff) -> Reply:
    """For coordinators: a staff member the bot cannot message yet."""
    return Reply(
        _(
            "{name} ({role}) cannot get messages from the bot: they never opened it or "
            "blocked it. Ask them to open the bot and send /start. Their alerts wait until then."
        ).format(name=staff.name, role=staff.role)
    )


MEDIA_KINDS = ("photo", "voice", "document")


async def mirror_message(
    session: AsyncSession, participant: Participant, message: Message, now: datetime
) -> None:
    """Show the officer what the participant sent: everything in forum mode (in the
    participant's topic), voice notes, photos and files otherwise. Copies carry the
    participant's name, and replying to a copy answers the participant."""
    if participant.telegram_id is None or message.telegram_message_id is None:
        return
    forum = Routing.forum_chat_id
    header = f"{participant.name} (#{participant.id})"
    shared = inbound.shared_item(message.detail)
    if message.kind in ("callback", "edit", "location", "other"):
        label = {"callback": "🔘", "edit": "✏️", "location": "📍"}.get(message.kind, "•")
        line = shared or f"{label} {message.text or ''}".strip()
        if forum is not None:
            await _mirror_line(session, forum, participant, line, now)
        elif message.kind in ("location", "other") and line != label:
            for member in await responsible_staff(session, participant):
                await _mirror_line(
                    session, member.telegram_id, participant, f"{header}: {line}", now
                )
        return
    if forum is None and message.kind not in MEDIA_KINDS:
        return
    if forum is not None and shared:  # a forward: say where it came from
        await _mirror_line(session, forum, participant, shared, now)
    targets: list[int] = (
        [forum]
        if forum is not None
        else [member.telegram_id for member in await responsible_staff(session, participant)]
    )
    for chat_id in targets:
        payload: dict[str, object] = {
            "from_chat_id": participant.telegram_id,
            "message_id": message.telegram_message_id,
        }
        if message.kind in MEDIA_KINDS:
            caption = f"{header}: {message.text}" if message.text else header
            payload["caption"] = caption[:1024]
        outbox_db.add(
            session,
            kind="mirror",
            priority=outbox.PRIORITY_PROMPT if forum is not None else outbox.PRIORITY_ALERT,
            method="copyMessage",
            chat_id=chat_id,
            payload=payload,
            participant_id=participant.id,
            due_at=now,
        )


async def _mirror_line(
    session: AsyncSession, chat_id: int, participant: Participant, line: str, now: datetime
) -> None:
    outbox.enqueue(
        session,
        chat_id,
        [Reply(line)],
        now=now,
        kind="mirror",
        priority=outbox.PRIORITY_PROMPT,
        participant_id=participant.id,
    )
