"""Getting alerts to the officer: who receives them, what they read, and in what order.

An alert goes to the participant's own officer (or, without one, to the coordinators,
or to all officers when there is no coordinator) in the officer's private chat. In forum
mode (OPRIT_OFFICER_CHAT_ID) it goes to the participant's topic instead, and a high or
critical alert also goes to the officer's private chat at once, so it never waits behind
the group's message budget. The photo or voice note an alert is about is copied along.
(Copies of everyday messages are bot.services.mirror.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import text_language
from bot.conversation import outbox
from bot.conversation.choices import choice_id
from bot.conversation.events import Address
from bot.conversation.replies import Choice, Reply
from bot.i18n import _, clock_time, current_language, language_name, ngettext, use_language
from bot.runtime import Tx
from bot.services.labels import (
    category_label,
    domain_label,
    help_reference,
    mood_label,
    severity_label,
    status_label,
)
from db import outbox as outbox_db
from db import staff_queries
from db.enums import Action, AlertKind, AlertStatus, Channel
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


def reason(alert: Alert, request: HelpRequest | None) -> str:
    """Why an alert was raised, in one line in the current language."""
    categories = ", ".join(category_label(category) for category in alert.categories or [])
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
    if alert.kind == AlertKind.SAFETY_CHECK:
        return safety_check_reason((alert.categories or ["asked"])[0])
    if alert.kind == "checkin":
        return checkin_picture(alert.categories or [])
    if alert.kind == AlertKind.TASK_OVERDUE:
        domain, *rest = alert.categories or [""]
        owner = rest[1] if len(rest) > 1 else "participant"
        if owner == "officer":
            # Translators: an officer's alert about their own task; its title follows below
            return _("Your own plan task is overdue ({domain}):").format(
                domain=domain_label(domain)
            )
        if owner == "partner":
            # Translators: an officer's alert; the task and the partner's name follow below
            return _("A partner's plan task is overdue ({domain}). Check with them:").format(
                domain=domain_label(domain)
            )
        # Translators: an officer's alert; the task's title follows below it
        return _("A plan task is overdue ({domain}):").format(domain=domain_label(domain))
    if alert.kind == AlertKind.REFERRAL_STALE:
        # Translators: an officer's alert; the partner organisation's name follows below it
        return _("No first contact from the partner 10 working days after the referral:")
    if alert.kind in ("cant_make_it", "no_confirmation"):
        # The alert keeps with whom and when the appointment was; the reason the participant
        # gave is its excerpt (shown below). Imported here: that module uses this one.
        from bot.services.appointments import alert_reason

        named = alert_reason(alert.kind, alert.categories)
        if named is not None:
            return named
    return {
        "cant_make_it": _("Cannot make it to an appointment"),
        "no_confirmation": _("Did not confirm an appointment"),
        "paused": _("Paused the chat with /stop"),
        "unreachable": _("Cannot be reached: blocked the bot or deleted the chat"),
    }.get(alert.kind, alert.kind)


def checkin_picture(parts: Sequence[str]) -> str:
    """A check-in's worrying answers in one line: the mood and each domain that is not
    fine (parts like "mood:bad", "money:problem")."""
    answers = []
    for part in parts:
        key, _sep, value = part.partition(":")
        if key == "mood":
            answers.append(_("mood {mood}").format(mood=mood_label(value or "bad")))
        else:
            answers.append(f"{domain_label(key)}: {status_label(value or 'problem')}")
    # Translators: {answers} lists the mood and the life domains that are not fine
    return _("Check-in: {answers}").format(answers="; ".join(answers))


def safety_check_reason(answer: str) -> str:
    """What the officer reads about the direct question on self-harm."""
    return {
        "yes": _("Asked whether they think of harming themselves: answered Yes"),
        "unsure": _("Asked whether they think of harming themselves: answered I don't know"),
        "no": _("Asked whether they think of harming themselves: answered No"),
    }.get(
        answer,
        _("Asked whether they think of harming themselves: no answer within 10 minutes"),
    )


@dataclass(frozen=True)
class Escalated:
    """An escalated alert: when, and the name of the participant's officer (if any)."""

    at: datetime
    officer: str | None


def _escalation_line(alert: Alert, escalated: Escalated) -> str:
    """Whose alert it is and how long it waited (in whole minutes)."""
    waited = max(1, int((escalated.at - alert.created_at).total_seconds()) // 60)
    officer = escalated.officer
    if officer:
        return ngettext(
            "⏫ Escalated: {officer} (the officer of this participant) did not pick this up "
            "within {count} minute.",
            "⏫ Escalated: {officer} (the officer of this participant) did not pick this up "
            "within {count} minutes.",
            waited,
        ).format(officer=officer, count=waited)
    return ngettext(
        "⏫ Escalated: nobody picked this up within {count} minute.",
        "⏫ Escalated: nobody picked this up within {count} minutes.",
        waited,
    ).format(count=waited)


def render(
    alert: Alert,
    participant: Participant,
    request: HelpRequest | None,
    *,
    escalated: Escalated | None = None,
    handled: tuple[str, str] | None = None,
) -> Reply:
    """The alert as the officer reads it, in the current (officer's) language. `handled`:
    who picked it up or resolved it, and at what time; only the buttons that still apply
    are shown (Reply always, Acknowledge while it is new, Resolved until it is)."""
    mark = SEVERITY_MARK.get(alert.severity, "⚪")
    head = f"{mark} {severity_label(alert.severity)} · {participant.name}"
    lines = [_escalation_line(alert, escalated) if escalated else "", head]
    lines.append(reason(alert, request))
    if alert.excerpt:
        excerpt = alert.excerpt if len(alert.excerpt) <= EXCERPT else alert.excerpt[:EXCERPT] + "…"
        lines.append(f"“{excerpt}”")
        reader = current_language()
        written = text_language.guess(alert.excerpt)  # not the profile: people switch
        if written is not None and written != reader:
            name = language_name(written, reader)
            lines.append(_("(written in {language})").format(language=name))
    if handled is not None:
        name, moment = handled
        if alert.status == AlertStatus.RESOLVED:
            lines.append(_("✅ Resolved by {name}, {time}").format(name=name, time=moment))
        elif alert.status == AlertStatus.ACKNOWLEDGED:
            lines.append(_("👀 Picked up by {name}, {time}").format(name=name, time=moment))
    token = str(alert.id)
    buttons = [Choice(choice_id(FLOW_ID, token, "reply"), _("✍️ Reply"))]
    if alert.status == AlertStatus.OPEN:
        buttons.append(Choice(choice_id(FLOW_ID, token, "ack"), _("👀 Acknowledge")))
    if alert.status != AlertStatus.RESOLVED:
        buttons.append(Choice(choice_id(FLOW_ID, token, "done"), _("✅ Resolved")))
    return Reply("\n".join(line for line in lines if line), [buttons], about=participant.id)


async def show_handled(
    tx: Tx, alert: Alert, participant: Participant, request: HelpRequest | None, by: Staff
) -> None:
    """Edit every copy of the alert that reached a chat: who picked it up or resolved it,
    and when; buttons that no longer apply disappear. Everyone who got it sees it."""
    moment = clock_time(tx.now, tx.settings.tz)
    for row in await outbox_db.sent_alert_messages(tx.session, alert.id):
        member = (
            await staff_queries.active_by_id(tx.session, row.staff_id) if row.staff_id else None
        )
        with use_language(member.language if member is not None else by.language):
            reply = render(alert, participant, request, handled=(by.name, moment))
        payload = {**reply.payload(None), "message_id": row.telegram_message_id}
        outbox.call(
            tx.session,
            Action.EDIT,
            Address(row.channel, row.chat_id, row.message_thread_id),
            payload,
            now=tx.now,
            kind="alert_edit",
            priority=outbox.PRIORITY_ALERT,
            participant_id=participant.id,
            staff_id=row.staff_id,
        )


async def enqueue(
    tx: Tx,
    alert: Alert,
    participant: Participant,
    *,
    recipients: Sequence[Staff] | None = None,
    escalated: bool = False,
    delay: timedelta = timedelta(0),
) -> None:
    """Queue the alert (and a copy of the media it is about) for its recipients; with a
    `delay`, due only then (cancelled meanwhile when no longer needed)."""
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
    escalation = None
    if escalated:
        # The participant's own officer hears it was escalated too, and everyone reads
        # whose alert it was and how long it waited.
        officer = (
            await staff_queries.active_by_id(session, participant.officer_id)
            if participant.officer_id is not None
            else None
        )
        if officer is not None and all(member.id != officer.id for member in staff):
            staff.append(officer)
        escalation = Escalated(tx.now, officer.name if officer is not None else None)
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
    due = tx.now + delay
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
                now=due,
                kind="alert",
                priority=priority,
                participant_id=participant.id,
                staff_id=staff_id,
                alert_id=alert.id,
            )
        with use_language(language):
            reply = render(alert, participant, request, escalated=escalation)
        outbox.to_address(
            session,
            address,
            [reply],
            now=due,
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
