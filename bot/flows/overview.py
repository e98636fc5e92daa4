"""What officers and coordinators look up in the chat: /invite, /participants (paged),
/case, /handled, /plan and /tasks. Officers see their own participants (and those
without an officer); backup officers and coordinators see everyone."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.conversation import outbox
from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Reply
from bot.i18n import (
    _,
    clock_time,
    current_language,
    day_label,
    language_name,
    ngettext,
    timestamp,
)
from bot.services import conditions, due, plan, staff_alerts
from bot.services.access import not_allowed, officer_scope
from bot.services.invites import create_invite
from bot.services.labels import (
    alert_status_label,
    confirmation_label,
    domain_label,
    help_reference,
    help_status_label,
    mood_label,
    participant_status_label,
    severity_label,
    task_status_label,
)
from bot.text import clean, display_name
from db import audit, cases, mutes, reports
from db import plans as plans_db
from db.enums import AlertStatus, CheckinStatus, Direction, Role
from db.models import Alert, HelpRequest, Participant, Staff

FLOW_ID = "pp"
PAGE = 10
CASE_DAYS = 30
CASE_PAGE = 20  # entries per page of /case
MAX_CASE_PAGES = 50  # older than that: `oprit export` has everything
CASE_EXCERPT = 160  # characters of a message shown in /case
MAX_CASE_TEXT = 4000  # Telegram takes 4,096
CASE_MARK = "c"  # a choice value that opens a case: c<participant id>.<page>
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


async def on_choice(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """◀ / ▶ under /participants, a name to open a case, a page of a case."""
    if choice.value.startswith(CASE_MARK):
        return await open_case(ctx, choice.value)
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
                language=language_name(row.language, current_language()),
                status=participant_status_label(row.status),
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
    names = [_open_case(token, row.id, 0, f"📂 {row.name}") for row in shown]
    rows_of_buttons = [names[i : i + 2] for i in range(0, len(names), 2)]
    if buttons:
        rows_of_buttons.append(buttons)
    return [Reply(header + "\n" + "\n".join(lines), rows_of_buttons)]


async def case(ctx: FlowContext, args: str) -> list[Reply]:
    """/case NAME_OR_ID: the last 30 days of one participant (audited); several matches
    are offered as buttons."""
    staff = ctx.staff
    assert staff is not None
    query = clean(args).strip()[:100]
    if not query:
        return [Reply(_("Use: /case NAME or /case NUMBER"))]
    found = await cases.find_participants(ctx.session, query.lstrip("#"), officer_scope(staff))
    if not found:
        return [not_allowed()]
    if len(found) > 1:
        token = new_token()
        buttons = [[_open_case(token, p.id, 0, f"📂 {p.name}")] for p in found]
        return [Reply(_("Several people match. Tap one:"), buttons)]
    return await _case_page(ctx, found[0], 0)


def _open_case(token: str, participant_id: int, page: int, label: str) -> Choice:
    return Choice(choice_id(FLOW_ID, token, f"{CASE_MARK}{participant_id}.{page}"), label)


async def open_case(ctx: FlowContext, value: str) -> list[Reply]:
    """A tap on a name (/participants, several matches) or on a page of a case."""
    assert ctx.staff is not None
    number, _sep, page = value.removeprefix(CASE_MARK).partition(".")
    if not number.isdigit():
        return [not_allowed()]
    found = await cases.find_participants(ctx.session, number, officer_scope(ctx.staff))
    if not found:
        return [not_allowed()]
    return await _case_page(ctx, found[0], int(page) if page.isdigit() else 0)


async def _case_page(ctx: FlowContext, participant: Participant, page: int) -> list[Reply]:
    """One page of a case, newest first (page 0 is the most recent CASE_PAGE entries)."""
    staff, session = ctx.staff, ctx.session
    assert staff is not None
    audit.add(
        session,
        "case_read",
        actor="staff",
        actor_telegram_id=staff.telegram_id,
        participant_id=participant.id,
        at=ctx.now,
    )
    address = outbox.address_of(participant)
    page = max(0, min(page, MAX_CASE_PAGES - 1))
    events = await cases.timeline(
        session,
        participant.id,
        address.chat if address else None,
        ctx.now - timedelta(days=CASE_DAYS),
        newest=(page + 1) * CASE_PAGE,
    )
    entries = _case_entries(events, participant)
    entries.sort(key=lambda entry: entry[0])
    # The newest (page + 1) pages are complete: only older messages were left unread.
    total = len(entries) - len(events.conversation) + events.messages
    pages = min(MAX_CASE_PAGES, max(1, (total + CASE_PAGE - 1) // CASE_PAGE))
    page = min(page, pages - 1)
    end = len(entries) - page * CASE_PAGE
    shown = entries[max(0, end - CASE_PAGE) : end]
    header = ngettext(
        "Case of {name} ({status}), last {days} day, page {page} of {pages}:",
        "Case of {name} ({status}), last {days} days, page {page} of {pages}:",
        CASE_DAYS,
    ).format(
        name=participant.name,
        status=participant_status_label(participant.status),
        days=CASE_DAYS,
        page=page + 1,
        pages=pages,
    )
    body = "\n".join(f"{timestamp(at, ctx.zone)} · {text}" for at, text in shown)
    token = new_token()
    buttons = []
    if page < pages - 1:
        buttons.append(_open_case(token, participant.id, page + 1, _("◀ Older")))
    if page > 0:
        buttons.append(_open_case(token, participant.id, page - 1, _("Newer ▶")))
    text = header + "\n" + (body or _("Nothing in this period."))
    return [Reply(text[:MAX_CASE_TEXT], [buttons] if buttons else [], about=participant.id)]


def _case_entries(events: cases.Timeline, participant: Participant) -> list[tuple[datetime, str]]:
    """Every line of a case: check-ins, help requests, appointments and the conversation."""
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
                    org=appointment.with_org,
                    confirmation=confirmation_label(appointment.confirmation),
                ),
            )
        )
    for message, alert, writer in events.conversation:
        text = _excerpt(message.text or f"[{message.kind}]")
        if message.direction == Direction.IN:
            line = f"💬 {participant.name}: {text}"
            if alert is not None:
                mark = staff_alerts.SEVERITY_MARK.get(alert.severity, "⚪")
                state = alert_status_label(alert.status)
                line = f"{mark} {severity_label(alert.severity)} ({state}) {line}"
        elif writer is not None:
            line = f"↩️ {writer}: {text}"
        else:
            line = f"🤖 {text}"
        entries.append((message.at, line))
    return entries


def _excerpt(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= CASE_EXCERPT else line[:CASE_EXCERPT] + "…"


async def _one_participant(ctx: FlowContext, args: str, usage: str) -> Participant | Reply:
    """The one participant a staff command names (a name or #number this staff member may
    see), or the reply that says why there is not exactly one."""
    assert ctx.staff is not None
    query = clean(args).strip()[:100]
    if not query:
        return Reply(usage)
    found = await cases.find_participants(ctx.session, query.lstrip("#"), officer_scope(ctx.staff))
    if not found:
        return not_allowed()
    if len(found) > 1:
        names = "\n".join(f"#{p.id} {p.name}" for p in found)
        return Reply(_("Several people match. Use the number:") + "\n" + names)
    return found[0]


async def staff_plan(ctx: FlowContext, args: str) -> list[Reply]:
    """/plan NAME_OR_ID: one participant's whole plan, per domain (audited)."""
    staff = ctx.staff
    assert staff is not None
    participant = await _one_participant(ctx, args, _("Use: /plan NAME or /plan NUMBER"))
    if isinstance(participant, Reply):
        return [participant]
    audit.add(
        ctx.session,
        "plan_viewed",
        actor="staff",
        actor_telegram_id=staff.telegram_id,
        participant_id=participant.id,
        at=ctx.now,
    )
    lines = [_("📋 Plan of {name}").format(name=participant.name)]
    if participant.release_date is not None:
        lines.append(_("Release date: {date}").format(date=day_label(participant.release_date)))
    tasks = await plans_db.tasks_of(ctx.session, participant.id)
    owners = {
        "participant": _("participant"),
        # Translators: the owner of a plan task: the officer (you)
        "officer": _("officer"),
        "partner": _("partner"),
    }
    for task in tasks:
        due = f" · {day_label(task.due_on)}" if task.due_on else ""
        lines.append(
            f"#{task.id} {domain_label(task.domain)}: {plan.title_of(task)} · "
            f"{owners.get(task.owner, task.owner)}{due} · {task_status_label(task.status)}"
        )
    if not tasks:
        lines.append(_("No tasks in the plan yet."))
    lines += [
        conditions.condition_line(c)
        for c in await plans_db.conditions_of(ctx.session, participant.id)
    ]
    return [Reply("\n".join(lines), about=participant.id)]


async def tasks(ctx: FlowContext, args: str) -> list[Reply]:
    """/tasks: late and soon-due tasks and waiting referrals across this staff member's
    caseload (everyone's for coordinators)."""
    assert ctx.staff is not None
    found = await due.due(
        ctx.session, officer_scope(ctx.staff), plan.local_today(ctx.now, ctx.zone)
    )
    due.audit_view(ctx.session, ctx.staff, found, "chat", ctx.now)
    return [Reply(due.chat_text(found))]


async def mute(ctx: FlowContext, args: str) -> list[Reply]:
    """/mute NAME_OR_ID: stop (or, again, restart) copies of a participant's everyday
    messages for this staff member; flagged messages and alerts always come."""
    staff = ctx.staff
    assert staff is not None
    participant = await _one_participant(ctx, args, _("Use: /mute NAME or /mute NUMBER"))
    if isinstance(participant, Reply):
        return [participant]
    if await mutes.toggle(ctx.session, staff.id, participant.id, ctx.now):
        text = _(
            "Muted: you no longer get copies of {name}'s everyday messages. Flagged messages "
            "and alerts still come. /mute {name} again to undo."
        )
    else:
        text = _("Unmuted: you get copies of {name}'s messages again.")
    return [Reply(text.format(name=participant.name), about=participant.id)]


async def open_alerts(ctx: FlowContext, args: str) -> list[Reply]:
    """/handled: open alerts, most severe first, each with its buttons: the new ones, then
    those someone picked up but nobody resolved yet (saying who and when)."""
    assert ctx.staff is not None
    rows = await cases.open_alerts(ctx.session, officer_scope(ctx.staff))
    if not rows:
        return [Reply(_("No open alerts. 👍"))]
    rows = sorted(rows, key=lambda pair: staff_alerts.priority_for(pair[0].severity))[:10]
    fresh = [(a, p) for a, p in rows if a.status == AlertStatus.OPEN]
    picked = [(a, p) for a, p in rows if a.status != AlertStatus.OPEN]
    replies = []
    if fresh:
        replies.append(Reply(_("New alerts:")))
        for alert, participant in fresh:
            request = await _request_of(ctx, alert)
            replies.append(staff_alerts.render(alert, participant, request))
    if picked:
        replies.append(Reply(_("Picked up, not resolved yet:")))
        for alert, participant in picked:
            request = await _request_of(ctx, alert)
            by = (
                await ctx.session.get(Staff, alert.acknowledged_by)
                if alert.acknowledged_by
                else None
            )
            handled = (
                (by.name, clock_time(alert.acknowledged_at, ctx.zone))
                if by is not None and alert.acknowledged_at is not None
                else None
            )
            replies.append(staff_alerts.render(alert, participant, request, handled=handled))
    return replies


async def _request_of(ctx: FlowContext, alert: Alert) -> HelpRequest | None:
    if alert.help_request_id is None:
        return None
    return await ctx.session.get(HelpRequest, alert.help_request_id)


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.STAFF,
    commands=(
        Command("invite", lambda: _("Invite a new participant"), start=invite),
        Command("participants", lambda: _("Your participants"), start=participants),
        Command("case", lambda: _("One participant's conversation and timeline"), start=case),
        Command("handled", lambda: _("Open alerts"), start=open_alerts),
        Command("mute", lambda: _("No copies of someone's everyday messages"), start=mute),
        Command("plan", lambda: _("One participant's plan"), start=staff_plan),
        Command("tasks", lambda: _("Tasks due and referrals waiting"), start=tasks),
        # Dutch names (shown in Dutch staff menus; every name works for everyone)
        Command("dossier", start=case),
        Command("open", start=open_alerts),
    ),
    on_choice=on_choice,
)
