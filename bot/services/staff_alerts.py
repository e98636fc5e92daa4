"""Getting alerts to the officer: who receives them, what they read, and in what order.

An alert goes to the participant's own officer (or, without one, to the coordinators,
or to all officers when there is no coordinator) in the officer's private chat. In forum
mode (OPRIT_OFFICER_CHAT_ID) it goes to the participant's topic instead, and a high or
critical alert also goes to the officer's private chat at once, so it never waits behind
the group's message budget. Voice notes and photos are copied along (copyMessage).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import inbound, outbox
from bot.conversation.choices import choice_id
from bot.conversation.events import Address
from bot.conversation.replies import Choice, Reply
from bot.i18n import _, current_language, language_name, ngettext, use_language
from bot.runtime import Tx
from bot.services.labels import domain_label, help_reference
from db import staff_queries
from db.enums import Channel
from db.models import Alert, HelpRequest, Message, Participant, Staff

FLOW_ID = "al"
SEVERITY_MARK = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵"}
EXCERPT = 1500


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
            Choice(choice_id(FLOW_ID, token, "reply"), _("✍️ Reply")),
            Choice(choice_id(FLOW_ID, token, "ack"), _("👀 Acknowledge")),
            Choice(choice_id(FLOW_ID, token, "done"), _("✅ Resolved")),
        ]
    ]
    return Reply("\n".join(line for line in lines if line), choices, about=participant.id)


async def enqueue(
    tx: Tx,
    alert: Alert,
    participant: Participant,
    *,
    recipients: Sequence[Staff] | None = None,
    escalated: bool = False,
) -> None:
    """Queue the alert (and a copy of the media it is about) for its recipients."""
    session = tx.session
    request = (
        await session.get(HelpRequest, alert.help_request_id) if alert.help_request_id else None
    )
    message = await session.get(Message, alert.message_id) if alert.message_id else None
    staff = (
        list(recipients)
        if recipients is not None
        else list(await responsible_staff(session, participant))
    )
    targets: list[tuple[Address, Staff | None, str]] = []
    group = tx.routing.officer_group
    if group is not None and not escalated:
        topic = Address(Channel.TELEGRAM, group, participant.forum_topic_id)
        targets.append((topic, None, staff[0].language if staff else "nl"))
        if alert.severity in ("high", "critical"):
            targets += [(outbox.staff_address(m), m, m.language) for m in staff]
    else:
        targets += [(outbox.staff_address(m), m, m.language) for m in staff]
    priority = priority_for(alert.severity)
    source = outbox.address_of(participant)
    for address, member, language in targets:
        staff_id = member.id if member is not None else None
        media = message is not None and message.media_file_id and message.telegram_message_id
        if media and source is not None and source.channel == address.channel:
            assert message is not None and message.telegram_message_id is not None
            outbox.copy(
                session,
                address,
                source,
                message.telegram_message_id,
                now=tx.now,
                kind="alert",
                priority=priority,
                participant_id=participant.id,
                staff_id=staff_id,
                alert_id=alert.id,
            )
        with use_language(language):
            reply = render(alert, participant, request, escalated=escalated)
        outbox.to_address(
            session,
            address,
            [reply],
            now=tx.now,
            kind="alert",
            priority=priority,
            participant_id=participant.id,
            staff_id=staff_id,
            alert_id=alert.id,
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


async def mirror_message(tx: Tx, participant: Participant, message: Message) -> None:
    """Show the officer what the participant sent: everything in forum mode (in the
    participant's topic), voice notes, photos and files otherwise. Copies carry the
    participant's name, and replying to a copy answers the participant."""
    source = outbox.address_of(participant)
    if source is None or message.telegram_message_id is None:
        return
    group = tx.routing.officer_group
    header = f"{participant.name} (#{participant.id})"
    shared = inbound.shared_item(message.detail)
    if message.kind in ("callback", "edit", "location", "other"):
        label = {"callback": "🔘", "edit": "✏️", "location": "📍"}.get(message.kind, "•")
        line = shared or f"{label} {message.text or ''}".strip()
        if group is not None:
            _mirror_line(tx, group, participant, line)
        elif message.kind in ("location", "other") and line != label:
            for member in await responsible_staff(tx.session, participant):
                outbox.to_staff(
                    tx.session,
                    member,
                    [Reply(f"{header}: {line}")],
                    now=tx.now,
                    kind="mirror",
                    priority=outbox.PRIORITY_PROMPT,
                    about=participant.id,
                )
        return
    if group is None and message.kind not in MEDIA_KINDS:
        return
    if group is not None and shared:  # a forward: say where it came from
        _mirror_line(tx, group, participant, shared)
    targets: list[Address] = (
        [Address(Channel.TELEGRAM, group)]
        if group is not None
        else [outbox.staff_address(m) for m in await responsible_staff(tx.session, participant)]
    )
    caption = None
    if message.kind in MEDIA_KINDS:
        caption = (f"{header}: {message.text}" if message.text else header)[:1024]
    for address in targets:
        if address.channel != source.channel:
            continue  # a copy cannot cross messengers
        outbox.copy(
            tx.session,
            address,
            source,
            message.telegram_message_id,
            now=tx.now,
            kind="mirror",
            priority=outbox.PRIORITY_PROMPT if group is not None else outbox.PRIORITY_ALERT,
            caption=caption,
            participant_id=participant.id,
        )


def _mirror_line(tx: Tx, group: int, participant: Participant, line: str) -> None:
    outbox.to_officer_group(
        tx.session,
        group,
        participant,
        [Reply(line)],
        now=tx.now,
        kind="mirror",
        priority=outbox.PRIORITY_PROMPT,
    )
