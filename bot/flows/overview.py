"""What officers and coordinators look up in the chat: /invite, /participants (paged),
/case and /handled. Officers see their own participants (and those without an officer);
backup officers and coordinators see everyone."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Reply
from bot.i18n import _, ngettext, timestamp
from bot.services import staff_alerts
from bot.services.access import not_allowed, officer_scope
from bot.services.invites import create_invite
from bot.services.labels import domain_label, help_reference, help_status_label, mood_label
from bot.text import clean, display_name
from db import audit, cases, reports
from db.enums import CheckinStatus, Role
from db.models import HelpRequest

FLOW_ID = "pp"
PAGE = 10
CASE_DAYS = 30
INVITE_VALID = timedelta(days=14)
MOOD_MARK = {"good": "🙂", "okay": "😐", "bad": "🙁"}


async def invite(ctx: FlowContext, args: str) -> list[Reply]:
    """/invite [name]: a code and deep link for a new participant of this officer."""
    staff = ctx.staff
    assert staff is not None
    name = args or None
    made = await create_invite(
        ctx.session,
        now=ctx.now,
        valid_for=INVITE_VALID,
        officer_telegram_id=staff.telegram_id if staff.role == Role.OFFICER else None,
        name=name,
        created_by=staff.telegram_id,
    )
    return [
        Reply(
            _("Invite for {name}:\n{link}\nCode: {code}\nValid for 14 days, once.").format(
                name=display_name(name), link=made.link(ctx.runtime.bot_username), code=made.code
            )
        )
    ]


async def participants(ctx: FlowContext, args: str) -> list[Reply]:
    """/participants: the first page."""
    return await _page(ctx, 0)


async def turn_page(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """◀ / ▶ under /participants."""
    return await _page(ctx, int(choice.value) if choice.value.isdigit() else 0)


async def _page(ctx: FlowContext, page: int) -> list[Reply]:
    """One line per participant, ten per page, with buttons to page."""
    assert ctx.staff is not None
    zone = ctx.zone
    rows = await reports.participant_overview(ctx.session, ctx.now, officer_scope(ctx.staff))
    if not rows:
        return [Reply(_("No participants yet. Use /invite to add one."))]
    pages = (len(rows) + PAGE - 1) // PAGE
    page = max(0, min(page, pages - 1))
    shown = rows[page * PAGE : (page + 1) * PAGE]
    moods = await reports.recent_moods(ctx.session, [row.id for row in shown])
    lines = []
    for row in shown:
        checkin = timestamp(row.last_checkin_at, zone) if row.last_checkin_at else "—"
        appointment = timestamp(row.next_appointment_at, zone) if row.next_appointment_at else "—"
        trend = "".join(MOOD_MARK.get(m, "·") for m in moods.get(row.id, [])) or "—"
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
        buttons.append(Choice(choice_id(FLOW_ID, token, str(page - 1)), _("◀ Previous")))
    if page < pages - 1:
        buttons.append(Choice(choice_id(FLOW_ID, token, str(page + 1)), _("Next ▶")))
    header = _("Participants, page {page} of {pages}:").format(page=page + 1, pages=pages)
    return [Reply(header + "\n" + "\n".join(lines), [buttons] if buttons else [])]


async def case(ctx: FlowContext, args: str) -> list[Reply]:
    """/case NAME_OR_ID: the last 30 days of one participant (audited)."""
    staff, session = ctx.staff, ctx.session
    assert staff is not None
    query = clean(args).strip()[:100]
    if not query:
        return [Reply(_("Use: /case NAME or /case NUMBER"))]
    found = await cases.find_participants(session, query.lstrip("#"), officer_scope(staff))
    if not found:
        return [not_allowed()]
    if len(found) > 1:
        names = "\n".join(f"#{p.id} {p.name}" for p in found)
        return [Reply(_("Several people match. Use the number:") + "\n" + names)]
    participant = found[0]
    audit.add(
        session,
        "case_read",
        actor="staff",
        actor_telegram_id=staff.telegram_id,
        participant_id=participant.id,
        at=ctx.now,
    )
    events = await cases.timeline(session, participant.id, ctx.now - timedelta(days=CASE_DAYS))
    entries: list[tuple[datetime, str]] = []
    for item in events.checkins:
        if item.status == CheckinStatus.COMPLETED and item.completed_at:
            problems = [domain_label(d) for d, s in (item.answers or {}).items() if s != "fine"]
            entries.append(
                (
                    item.completed_at,
                    _("Check-in: {mood} {problems}").format(
                        mood=mood_label(item.mood or ""), problems=", ".join(problems)
                    ),
                )
            )
        elif item.status == CheckinStatus.MISSED and item.prompted_at:
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
        mark = staff_alerts.SEVERITY_MARK.get(alert.severity, "⚪")
        entries.append((message.at, f"{mark} “{excerpt}”"))
    entries.sort(key=lambda entry: entry[0])
    header = ngettext(
        "Case #{id} {name} ({status}), last {days} day:",
        "Case #{id} {name} ({status}), last {days} days:",
        CASE_DAYS,
    ).format(id=participant.id, name=participant.name, status=participant.status, days=CASE_DAYS)
    body = "\n".join(f"{timestamp(at, ctx.zone)} · {text}" for at, text in entries[-60:])
    return [Reply(header + "\n" + (body or _("Nothing in this period.")), about=participant.id)]


async def open_alerts(ctx: FlowContext, args: str) -> list[Reply]:
    """/handled: open alerts, most severe first, each with its buttons."""
    assert ctx.staff is not None
    rows = await cases.open_alerts(ctx.session, officer_scope(ctx.staff))
    if not rows:
        return [Reply(_("No open alerts. 👍"))]
    rows = sorted(rows, key=lambda pair: staff_alerts.priority_for(pair[0].severity))[:10]
    replies = [Reply(_("Open alerts:"))]
    for alert, participant in rows:
        request = (
            await ctx.session.get(HelpRequest, alert.help_request_id)
            if alert.help_request_id
            else None
        )
        replies.append(staff_alerts.render(alert, participant, request))
    return replies


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.STAFF,
    commands=(
        Command("invite", start=invite),
        Command("participants", start=participants),
        Command("case", start=case),
        Command("handled", start=open_alerts),
    ),
    on_choice=turn_page,
)
