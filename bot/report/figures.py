"""The figures of the pilot report, each with the definition the methods section prints.

Counting over the big tables (messages, outbox) happens in the database (db.report); the
check-ins and help requests come back row by row because their mood, answers and domain
are encrypted at rest and only this process can read them. Every cell carries the number
of participants behind it, and every table is protected (bot.report.protect) before any
writer sees it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.report.model import Report, Section, Table
from bot.report.protect import PRIMARY, SMALL, Cell
from bot.services.labels import DOMAIN_STATUSES, HELP_DOMAINS, LIFE_DOMAINS, MOODS
from db import report as queries
from db.enums import (
    AlertKind,
    Attendance,
    Confirmation,
    Direction,
    OutboxStatus,
    ParticipantStatus,
    PlanDomain,
    TaskStatus,
)

SEVERITIES = ("low", "medium", "high", "critical")
LANGUAGES = {"nl": "Dutch", "en": "English", "tr": "Turkish", "pl": "Polish", "ar": "Arabic"}
STATUS_LABELS = {
    ParticipantStatus.IN_DETENTION: "not registered: in detention, invite not used",
    ParticipantStatus.REGISTERING: "not registered: invite used, no consent yet",
    ParticipantStatus.ACTIVE: "registered: active",
    ParticipantStatus.PAUSED: "registered: paused (/stop)",
    ParticipantStatus.UNREACHABLE: "registered: unreachable (blocked the bot)",
}
CONFIRMATIONS = {
    Confirmation.CONFIRMED: "confirmed with the reminder button",
    Confirmation.DECLINED: "declined with the reminder button",
    Confirmation.PENDING: "no answer to the reminders",
}
ATTENDANCE = {
    Attendance.ATTENDED: "attended",
    Attendance.NO_SHOW: "no-show",
    Attendance.RESCHEDULED: "rescheduled",
    None: "not recorded",
}
DELIVERY = {
    OutboxStatus.SENT: "sent",
    OutboxStatus.FAILED: "failed",
    OutboxStatus.BLOCKED: "blocked",
    OutboxStatus.UNKNOWN: "unknown",
}
ANSWER_WINDOW = timedelta(hours=24)
Step = Callable[[int], object]


def period_bounds(first: date, last: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The period's start and end as UTC moments: local midnight before `first` to local
    midnight after `last`."""
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def weeks(first: date, last: date) -> list[str]:
    """The Mondays of every week the period touches, as `YYYY-MM-DD`."""
    monday = first - timedelta(days=first.weekday())
    out = []
    while monday <= last:
        out.append(monday.isoformat())
        monday += timedelta(days=7)
    return out


def week_key(moment: datetime, zone: tzinfo) -> str:
    """The Monday of a moment's local week (as the database computes it)."""
    day = moment.astimezone(zone).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def local_weeks(start: datetime, end: datetime, zone: tzinfo) -> queries.Weeks:
    """The zone's UTC offsets over the period, for the database's week of a moment
    (clock changes fall on a quarter hour everywhere)."""
    offsets: list[tuple[datetime | None, int]] = []
    moment = start - timedelta(days=1)
    current = _offset(moment, zone)
    while moment < end + timedelta(days=1):
        moment += timedelta(minutes=15)
        if (offset := _offset(moment, zone)) != current:
            offsets.append((moment, current))
            current = offset
    offsets.append((None, current))
    return queries.Weeks(str(zone), offsets)


def _offset(moment: datetime, zone: tzinfo) -> int:
    shift = moment.astimezone(zone).utcoffset()
    return int(shift.total_seconds()) if shift is not None else 0


def _people(count: int) -> Cell:
    return Cell(count, count, counts_people=True)


def _events(rows: Iterable[Any], who: Callable[[Any], int]) -> Cell:
    """A count of rows and how many participants they came from."""
    items = list(rows)
    return Cell(len(items), len({who(item) for item in items}))


def _stat(values: Sequence[float], people: int, quantile: float) -> Cell:
    if not values:
        return Cell(None, 0)
    ordered = sorted(values)
    if quantile == 0.5:
        return Cell(round(statistics.median(ordered), 1), people)
    index = max(0, min(len(ordered) - 1, int(-(-quantile * len(ordered) // 1)) - 1))
    return Cell(round(ordered[index], 1), people)


def _share(part: Cell, whole: Cell, rest: Cell | None = None) -> Cell:
    """`part` as a percentage of `whole`. When the part or the rest of the whole rests on
    1 to 4 people, the share would give that small group away: hidden."""
    if not whole.value:
        return Cell(None, 0)
    share = Cell(round(100 * float(part.value or 0) / float(whole.value), 1), whole.people)
    if any(0 < cell.people < SMALL for cell in (part, rest) if cell is not None):
        share.hidden = PRIMARY
    return share


def _hide_shares(table: Table, shares: Sequence[tuple[int, Sequence[int]]]) -> Table:
    """A share of a shown count would give back a hidden count it is made of: hide it
    with them."""
    for _, cells in table.rows:
        for share, counts in shares:
            hidden = next((cells[c].hidden for c in counts if cells[c].hidden), None)
            if hidden and not cells[share].hidden:
                cells[share].hidden = hidden
    return table


def _with_totals(
    labels: Sequence[str], grid: Sequence[Sequence[list[Any]]], who: Callable[[Any], int]
) -> list[tuple[str, list[Cell]]]:
    """Rows of event counts with a total column and a total row, from the rows behind
    each cell."""
    rows: list[tuple[str, list[Cell]]] = []
    columns = len(grid[0]) if grid else 0
    for label, items in zip(labels, grid, strict=True):
        everything = [item for cell in items for item in cell]
        rows.append((label, [_events(cell, who) for cell in items] + [_events(everything, who)]))
    totals = [[item for row in grid for item in row[c]] for c in range(columns)]
    everything = [item for column in totals for item in column]
    rows.append(("total", [_events(c, who) for c in totals] + [_events(everything, who)]))
    return rows


def _minutes(since: datetime, until: datetime) -> float:
    return (until - since).total_seconds() / 60


def _reach(cohort: Sequence[Any], alerts: Sequence[Any], zone: tzinfo) -> Section:
    groups: dict[str, int] = defaultdict(int)
    for row in cohort:
        enrolled = row.created_at.astimezone(zone).date()
        if row.release_date is None:
            groups["release date not recorded"] += 1
        elif enrolled < row.release_date:
            groups["before release"] += 1
        else:
            groups["after release"] += 1
    labels = ("before release", "after release", "release date not recorded")
    enrolment = Table(
        "reach_enrolment",
        "Enrolled, before or after release",
        "enrolled",
        ["participants"],
        [(label, [_people(groups[label])]) for label in labels]
        + [("total", [_people(len(cohort))])],
        total_row=True,
    ).protect()
    status_counts: dict[str, int] = defaultdict(int)
    for row in cohort:
        status_counts[row.status] += 1
    status = Table(
        "reach_status",
        "Where participants stand today",
        "status",
        ["participants"],
        [(label, [_people(status_counts[key])]) for key, label in STATUS_LABELS.items()]
        + [("total", [_people(len(cohort))])],
        total_row=True,
    ).protect()
    stopped = {a.participant_id for a in alerts if a.kind == AlertKind.PAUSED}
    stops = Table(
        "reach_stopped",
        "Stopped automatic messages in the period",
        "",
        ["participants"],
        [("used /stop", [_people(len(stopped))])],
    ).protect()
    return Section(
        "reach",
        "Reach",
        [
            (
                "Enrolled",
                "participants enrolled by the end of the period (the cohort); before "
                "release when enrolled on a day before their release date",
            ),
            (
                "Registered",
                "participants who used their invite and gave consent (status "
                "active, paused or unreachable); the status is today's, not the period's end",
            ),
            ("Active per week", "participants who sent the bot at least one message that week"),
            (
                "Paused / stopped",
                "paused: status today after /stop; stopped: participants "
                "who used /stop during the period",
            ),
            ("Unreachable", "participants who blocked the bot (a message to them was refused)"),
        ],
        [enrolment, status, stops],
    )


def _contact(
    checkins: Sequence[Any], week_list: list[str], start: datetime, end: datetime, zone: tzinfo
) -> Section:
    prompted: dict[str, list[Any]] = defaultdict(list)
    completed: dict[str, list[Any]] = defaultdict(list)
    for row in checkins:
        if row.prompted_at is not None and start <= row.prompted_at < end:
            prompted[week_key(row.prompted_at, zone)].append(row)
        if row.completed_at is not None and start <= row.completed_at < end:
            completed[week_key(row.completed_at, zone)].append(row)

    def answered(row: Any) -> bool:
        return row.completed_at is not None and row.completed_at - row.prompted_at <= ANSWER_WINDOW

    rows = []
    for week in week_list:
        sent = _events(prompted[week], _who)
        done = _events([r for r in prompted[week] if answered(r)], _who)
        missed = _events([r for r in prompted[week] if not answered(r)], _who)
        rows.append((week, [sent, done, missed, _share(done, sent, missed)]))
    answers = _hide_shares(
        Table(
            "contact_checkins",
            "Check-in prompts answered within 24 hours",
            "week",
            ["prompts", "answered within 24 h", "not answered within 24 h", "answered %"],
            rows,
            row_sums=[(1, 2, 0)],
            chart="line",
        ).protect(),
        [(3, (0, 1, 2))],
    )
    mood_rows = []
    domain_rows = []
    for week in week_list:
        done_rows = completed[week]
        mood_rows.append(
            (week, [_events([r for r in done_rows if r.mood == m], _who) for m in MOODS])
        )
        domain_rows.append(
            (
                week,
                [
                    _events([r for r in done_rows if _worry(r.answers, domain)], _who)
                    for domain in LIFE_DOMAINS
                ],
            )
        )
    moods = Table(
        "contact_mood", "Mood in completed check-ins", "week", list(MOODS), mood_rows, chart="bar"
    ).protect()
    domains = Table(
        "contact_domains",
        "Check-ins that named a worry or problem, per life domain",
        "week",
        list(LIFE_DOMAINS),
        domain_rows,
        chart="line",
    ).protect()
    return Section(
        "contact",
        "Contact",
        [
            (
                "Prompt answered within 24 h",
                "a scheduled check-in prompt whose check-in was "
                "completed within 24 hours of the prompt; counted in the week of the prompt",
            ),
            ("Mood", "the mood (good / okay / bad) of check-ins completed that week"),
            (
                "Life-domain trend",
                "check-ins completed that week in which the participant "
                f"marked the domain as {DOMAIN_STATUSES[1]} or {DOMAIN_STATUSES[2]}",
            ),
        ],
        [answers, moods, domains],
    )


def _who(row: Any) -> int:
    return int(row.participant_id)


def _worry(answers: Any, domain: str) -> bool:
    return isinstance(answers, dict) and answers.get(domain) in DOMAIN_STATUSES[1:]


def _appointments(appointments: Sequence[Any], releases: Sequence[Any]) -> Section:
    grid = [
        [
            [a for a in appointments if a.confirmation == confirmation and a.attendance == outcome]
            for outcome in ATTENDANCE
        ]
        for confirmation in CONFIRMATIONS
    ]
    attendance = Table(
        "appointments_attendance",
        "Appointments by answer to the reminder and attendance",
        "reminder answer",
        [*ATTENDANCE.values(), "total"],
        _with_totals(list(CONFIRMATIONS.values()), grid, _who),
        total_row=True,
        total_column=True,
    ).protect()
    days = [
        (row.first_at.date() - row.release_date).days
        for row in releases
        if row.first_at is not None
    ]
    people = len(days)
    first = Table(
        "appointments_first",
        "Days from release to the first appointment",
        "",
        [
            "released in the period",
            "with an appointment after release",
            "without one yet",
            "median days",
            "p90 days",
        ],
        [
            (
                "participants",
                [
                    _people(len(releases)),
                    _people(people),
                    _people(len(releases) - people),
                    _stat(days, people, 0.5),
                    _stat(days, people, 0.9),
                ],
            )
        ],
        row_sums=[(1, 2, 0)],
    ).protect()
    return Section(
        "appointments",
        "Appointments",
        [
            ("Appointments", "appointments planned in the period and not cancelled"),
            (
                "Confirmed with the reminder button",
                "the participant pressed I'll be there on "
                "a reminder; declined: I can't make it; no answer: neither",
            ),
            ("Attendance", "what the officer recorded after the appointment"),
            (
                "Release to first appointment",
                "for participants released in the period: days "
                "from the release date to their first appointment on or after it",
            ),
        ],
        [attendance, first],
    )


def _safety(alerts: Sequence[Any], escalation: timedelta, crisis: tuple[int, int]) -> Section:
    limit = escalation.total_seconds() / 60
    rows = []
    for label, group in [(s, [a for a in alerts if a.severity == s]) for s in SEVERITIES] + [
        ("total", list(alerts))
    ]:
        seen = [a for a in group if a.acknowledged_at is not None]
        waits = [_minutes(a.created_at, a.acknowledged_at) for a in seen]
        people = len({a.participant_id for a in seen})
        within = _events(
            [a for a in seen if _minutes(a.created_at, a.acknowledged_at) <= limit], _who
        )
        late = _events([a for a in seen if _minutes(a.created_at, a.acknowledged_at) > limit], _who)
        acknowledged = Cell(len(seen), people)
        rows.append(
            (
                label,
                [
                    _events(group, _who),
                    acknowledged,
                    _events([a for a in group if a.acknowledged_at is None], _who),
                    _stat(waits, people, 0.5),
                    _stat(waits, people, 0.9),
                    _share(within, acknowledged, late),
                ],
            )
        )
    counts = Table(
        "safety_alerts",
        "Alerts by severity, and minutes to acknowledge them",
        "severity",
        ["alerts", "acknowledged", "not acknowledged", "median min", "p90 min",
         "within escalation time %"],
        rows,
        total_row=True,
        sum_columns=[0, 1, 2],
        row_sums=[(1, 2, 0)],
    ).protect()  # fmt: skip
    answers = Table(
        "safety_crisis",
        "Crisis answers sent",
        "",
        ["answers", "participants"],
        [("crisis answers (113 / 112)", [Cell(crisis[0], crisis[1]), _people(crisis[1])])],
    ).protect()
    return Section(
        "safety",
        "Safety",
        [
            (
                "Alert",
                "a message to staff about a participant raised in the period (flagged "
                "message, help request, missed check-ins, appointment not confirmed, ...)",
            ),
            (
                "Time to acknowledge",
                "from the alert to the first staff member pressing "
                "Acknowledge; median and 90th percentile of acknowledged alerts",
            ),
            (
                "Within escalation time",
                "acknowledged within OPRIT_ESCALATION_AFTER "
                f"({int(limit)} minutes), before backup officers are called in",
            ),
            (
                "Crisis answer",
                "the caring answer with 113 and 112 the bot sent to a message "
                "that read as a crisis",
            ),
        ],
        [counts, answers],
    )


def _help(requests: Sequence[Any]) -> Section:
    def domain(row: Any) -> str:
        return row.domain if row.domain in HELP_DOMAINS else "other"

    by_domain = [[[r for r in requests if domain(r) == d]] for d in HELP_DOMAINS]
    counts = Table(
        "help_requests",
        "Help requests by domain",
        "domain",
        ["requests"],
        [(label, cells[:1]) for label, cells in _with_totals(HELP_DOMAINS, by_domain, _who)],
        total_row=True,
    ).protect()
    rows = []
    for d in HELP_DOMAINS:
        mine = [r for r in requests if domain(r) == d]
        picked = [_minutes(r.created_at, r.acknowledged_at) / 60 for r in mine if r.acknowledged_at]
        solved = [_minutes(r.created_at, r.resolved_at) / 60 for r in mine if r.resolved_at]
        people = len({r.participant_id for r in mine})
        rows.append((d, [_stat(picked, people, 0.5), _stat(solved, people, 0.5)]))
    times = Table(
        "help_times",
        "Time to pick up and to resolve a help request (hours)",
        "domain",
        ["median hours to pick up", "median hours to resolve"],
        rows,
    ).protect()
    return Section(
        "help",
        "Help requests",
        [
            (
                "Help request",
                "a request made with I need help in the period, by the domain "
                "the participant chose",
            ),
            (
                "Pick up / resolve",
                "hours from the request to the officer picking it up / "
                "marking it resolved; median of the requests that got there",
            ),
        ],
        [counts, times],
    )


def _plan(
    tasks: Sequence[Any], blocked: Sequence[Any], referrals: Sequence[Any], zone: tzinfo
) -> Section:
    domains = [d.value for d in PlanDomain]

    def outcome(task: Any) -> str:
        if task.status == TaskStatus.DONE and task.done_at is not None:
            return "on time" if task.done_at.astimezone(zone).date() <= task.due_on else "late"
        return "dropped" if task.status == TaskStatus.DROPPED else "not done"

    outcomes = ("on time", "late", "not done", "dropped")
    grid = [
        [[t for t in tasks if t.domain == d and outcome(t) == o] for o in outcomes] for d in domains
    ]
    done = Table(
        "plan_tasks",
        "Plan tasks due in the period, by domain",
        "domain",
        [*outcomes, "total"],
        _with_totals(domains, grid, _who),
        total_row=True,
        total_column=True,
    ).protect()
    blockers = Table(
        "plan_blockers",
        "Open blockers today, by domain",
        "domain",
        ["blocked tasks"],
        [
            (label, cells[:1])
            for label, cells in _with_totals(
                domains, [[[b for b in blocked if b.domain == d]] for d in domains], _who
            )
        ],
        total_row=True,
    ).protect()
    kinds = sorted({r.domain for r in referrals})
    grid = [
        [
            [r for r in referrals if r.domain == k and r.accepted_on is None],
            [r for r in referrals if r.domain == k and r.accepted_on is not None],
        ]
        for k in kinds
    ]
    rows = []
    labelled = _with_totals(kinds, grid, _who) if kinds else []
    for (label, cells), group in zip(labelled, [*kinds, None] if kinds else [], strict=True):
        mine = [
            r
            for r in referrals
            if (group is None or r.domain == group) and r.first_contact_on is not None
        ]
        waits = [float((r.first_contact_on - r.sent_on).days) for r in mine]
        rows.append((label, [*cells, _stat(waits, len({r.participant_id for r in mine}), 0.5)]))
    sent = Table(
        "plan_referrals",
        "Referrals sent in the period, by partner type",
        "partner type",
        ["not accepted", "accepted", "sent", "median days to first contact"],
        rows,
        total_row=True,
        sum_columns=[0, 1, 2],
        row_sums=[(0, 1, 2)],
    ).protect()
    return Section(
        "plan",
        "Plan and referrals",
        [
            (
                "Task on time",
                "a plan task due in the period, marked done on or before its "
                "due day; late: done after it; not done: open or blocked today",
            ),
            ("Open blocker", "a plan task whose status is blocked today"),
            (
                "Referral",
                "a referral sent to a partner in the period, by the partner's "
                "domain; accepted when the partner accepted it",
            ),
            (
                "Time to first contact",
                "days from sending the referral to the partner's first "
                "contact with the participant",
            ),
        ],
        [done, blockers, sent],
    )


def _bot(
    messages: Sequence[queries.WeekCount],
    deliveries: Sequence[queries.WeekCount],
    cohort: Sequence[Any],
    week_list: list[str],
) -> tuple[Section, Table]:
    counts = {(m.week, m.kind): m for m in messages}

    def cell(found: queries.WeekCount | None) -> Cell:
        return Cell(found.rows, found.people) if found else Cell(0, 0)

    traffic = Table(
        "bot_messages",
        "Messages per week",
        "week",
        ["in (from participants)", "out (to participants)"],
        [
            (w, [cell(counts.get((w, Direction.IN))), cell(counts.get((w, Direction.OUT)))])
            for w in week_list
        ],
        chart="bar",
    ).protect()
    active = Table(
        "reach_active",
        "Active participants per week",
        "week",
        ["participants who wrote"],
        [
            (w, [_people(found.people if (found := counts.get((w, Direction.IN))) else 0)])
            for w in week_list
        ],
        chart="line",
    ).protect()
    sent = {(d.week, d.kind): d for d in deliveries}
    failures = Table(
        "bot_delivery",
        "Messages to participants per week by delivery result",
        "week",
        list(DELIVERY.values()),
        [(w, [cell(sent.get((w, status))) for status in DELIVERY]) for w in week_list],
        chart="bar",
    ).protect()
    languages: dict[str, int] = defaultdict(int)
    for row in cohort:
        languages[row.language] += 1
    names = sorted(languages, key=lambda code: LANGUAGES.get(code, code))
    used = Table(
        "bot_languages",
        "Languages participants chose",
        "language",
        ["participants"],
        [(LANGUAGES.get(code, code), [_people(languages[code])]) for code in names]
        + [("total", [_people(len(cohort))])],
        total_row=True,
    ).protect()
    section = Section(
        "bot",
        "The bot itself",
        [
            (
                "Messages",
                "messages from participants (in) and from Oprit or staff to "
                "participants (out) stored in the period",
            ),
            (
                "Delivery result",
                "outgoing messages to participants queued that week, by "
                "result: sent; failed after retries; blocked (the participant blocked the bot); "
                "unknown (the request left, no answer came)",
            ),
            ("Languages", "the language each participant of the cohort chose"),
        ],
        [traffic, failures, used],
    )
    return section, active


async def build(
    session: AsyncSession,
    first: date,
    last: date,
    *,
    zone: tzinfo,
    escalation: timedelta,
    now: datetime,
    step: Step = lambda done: None,
) -> Report:
    """Every figure for the period from `first` to `last` (local days, both included);
    `step` is told of each of the report's ten queries as it finishes."""
    start, end = period_bounds(first, last, zone)
    week_list = weeks(first, last)
    cohort = await queries.cohort(session, end)
    step(1)
    alerts = await queries.alerts_between(session, start, end)
    step(1)
    crisis = await queries.crisis_answers(session, start, end)
    checkins = await queries.checkins_between(session, start, end)
    step(1)
    requests = await queries.help_requests_between(session, start, end)
    appointments = await queries.appointments_between(session, start, end)
    releases = await queries.first_appointments_after_release(session, first, last)
    step(1)
    tasks = await queries.tasks_due_between(session, first, last)
    blocked = await queries.blocked_tasks(session)
    referrals = await queries.referrals_between(session, first, last)
    step(1)
    local = local_weeks(start, end, zone)
    messages = await queries.messages_per_week(session, start, end, local)
    step(3)
    deliveries = await queries.deliveries_per_week(session, start, end, local)
    step(1)
    reach = _reach(cohort, alerts, zone)
    bot, active = _bot(messages, deliveries, cohort, week_list)
    reach.tables.insert(2, active)
    sections = [
        reach,
        _contact(checkins, week_list, start, end, zone),
        _appointments(appointments, releases),
        _safety(alerts, escalation, crisis),
        _help(requests),
        _plan(tasks, blocked, referrals, zone),
        bot,
    ]
    step(1)
    return Report(first, last, now, str(zone), len(cohort), sections)


STEPS = 10
