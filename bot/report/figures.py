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

from babel.core import UnknownLocaleError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, current_language, language_name, ngettext, use_language
from bot.report import words
from bot.report.model import Report, Section, Table
from bot.report.protect import PRIMARY, SMALL, Cell
from bot.report.words import total
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
STATUSES = (
    ParticipantStatus.IN_DETENTION,
    ParticipantStatus.REGISTERING,
    ParticipantStatus.ACTIVE,
    ParticipantStatus.PAUSED,
    ParticipantStatus.UNREACHABLE,
)
CONFIRMATIONS = (Confirmation.CONFIRMED, Confirmation.DECLINED, Confirmation.PENDING)
ATTENDANCE = (Attendance.ATTENDED, Attendance.NO_SHOW, Attendance.RESCHEDULED, None)
DELIVERY = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.BLOCKED, OutboxStatus.UNKNOWN)
OUTCOMES = ("on time", "late", "not done", "dropped")
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
    for _label, cells in table.rows:
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
    rows.append((total(), [_events(c, who) for c in totals] + [_events(everything, who)]))
    return rows


def _minutes(since: datetime, until: datetime) -> float:
    return (until - since).total_seconds() / 60


def _reach(cohort: Sequence[Any], alerts: Sequence[Any], zone: tzinfo) -> Section:
    groups: dict[str, int] = defaultdict(int)
    for row in cohort:
        enrolled = row.created_at.astimezone(zone).date()
        if row.release_date is None:
            groups["unknown"] += 1
        elif enrolled < row.release_date:
            groups["before"] += 1
        else:
            groups["after"] += 1
    labels = {
        # Translators: pilot report, enrolled in the programme before release from detention
        "before": _("before release"),
        # Translators: pilot report, enrolled in the programme after release from detention
        "after": _("after release"),
        # Translators: pilot report, the officer did not fill in the release date
        "unknown": _("release date not recorded"),
    }
    participants = _("participants")
    enrolment = Table(
        "reach_enrolment",
        _("Enrolled, before or after release"),
        # Translators: pilot report, table header: when the participant was enrolled
        _("enrolled"),
        [participants],
        [(label, [_people(groups[key])]) for key, label in labels.items()]
        + [(total(), [_people(len(cohort))])],
        total_row=True,
    ).protect()
    status_counts: dict[str, int] = defaultdict(int)
    for row in cohort:
        status_counts[row.status] += 1
    status = Table(
        "reach_status",
        _("Where participants stand today"),
        # Translators: pilot report, table header: a participant's status
        _("status"),
        [participants],
        [(words.status(key), [_people(status_counts[key])]) for key in STATUSES]
        + [(total(), [_people(len(cohort))])],
        total_row=True,
    ).protect()
    stopped = {a.participant_id for a in alerts if a.kind == AlertKind.PAUSED}
    stops = Table(
        "reach_stopped",
        _("Stopped automatic messages in the period"),
        "",
        [participants],
        # Translators: pilot report, participants who sent the /stop command (keep /stop)
        [(_("used /stop"), [_people(len(stopped))])],
    ).protect()
    return Section(
        "reach",
        # Translators: pilot report, section title: how many people the pilot reached
        _("Reach"),
        [
            (
                _("Enrolled"),
                _(
                    "participants enrolled by the end of the period (the cohort); before "
                    "release when enrolled on a day before their release date"
                ),
            ),
            (
                _("Registered"),
                _(
                    "participants who used their invite and gave consent (status "
                    "active, paused or unreachable); the status is today's, not the "
                    "period's end"
                ),
            ),
            (
                _("Active per week"),
                _("participants who sent the bot at least one message that week"),
            ),
            (
                _("Paused / stopped"),
                _(
                    "paused: status today after /stop; stopped: participants "
                    "who used /stop during the period"
                ),
            ),
            (
                _("Unreachable"),
                _("participants who blocked the bot (a message to them was refused)"),
            ),
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

    week = _week()
    rows = []
    for monday in week_list:
        sent = _events(prompted[monday], _who)
        done = _events([r for r in prompted[monday] if answered(r)], _who)
        missed = _events([r for r in prompted[monday] if not answered(r)], _who)
        rows.append((monday, [sent, done, missed, _share(done, sent, missed)]))
    answers = _hide_shares(
        Table(
            "contact_checkins",
            _("Check-in prompts answered within 24 hours"),
            week,
            [
                # Translators: pilot report, column: check-in questions the bot sent
                _("prompts"),
                _("answered within 24 h"),
                _("not answered within 24 h"),
                # Translators: pilot report, column: share in per cent (keep the %)
                _("answered %"),
            ],
            rows,
            row_sums=[(1, 2, 0)],
            chart="line",
            shares=[3],
        ).protect(),
        [(3, (0, 1, 2))],
    )
    mood_rows = []
    domain_rows = []
    for monday in week_list:
        done_rows = completed[monday]
        mood_rows.append(
            (monday, [_events([r for r in done_rows if r.mood == m], _who) for m in MOODS])
        )
        domain_rows.append(
            (
                monday,
                [
                    _events([r for r in done_rows if _worry(r.answers, domain)], _who)
                    for domain in LIFE_DOMAINS
                ],
            )
        )
    moods = Table(
        "contact_mood",
        _("Mood in completed check-ins"),
        week,
        [words.mood(m) for m in MOODS],
        mood_rows,
        chart="bar",
    ).protect()
    domains = Table(
        "contact_domains",
        _("Check-ins that named a worry or problem, per life domain"),
        week,
        [words.domain(d) for d in LIFE_DOMAINS],
        domain_rows,
        chart="line",
    ).protect()
    return Section(
        "contact",
        # Translators: pilot report, section title: contact between the bot and participants
        _("Contact"),
        [
            (
                _("Prompt answered within 24 h"),
                _(
                    "a scheduled check-in prompt whose check-in was completed within 24 "
                    "hours of the prompt; counted in the week of the prompt"
                ),
            ),
            (
                _("Mood"),
                _("the mood ({good} / {okay} / {bad}) of check-ins completed that week").format(
                    good=words.mood("good"), okay=words.mood("okay"), bad=words.mood("bad")
                ),
            ),
            (
                _("Life-domain trend"),
                _(
                    "check-ins completed that week in which the participant marked the "
                    "domain as {worried} or {problem}"
                ).format(
                    worried=words.domain_status(DOMAIN_STATUSES[1]),
                    problem=words.domain_status(DOMAIN_STATUSES[2]),
                ),
            ),
        ],
        [answers, moods, domains],
    )


def _week() -> str:
    # Translators: pilot report, table header: the week (named by its Monday)
    return _("week")


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
        _("Appointments by answer to the reminder and attendance"),
        # Translators: pilot report, table header: how the participant answered the reminder
        _("reminder answer"),
        [*(words.attendance(a) for a in ATTENDANCE), total()],
        _with_totals([words.confirmation(c) for c in CONFIRMATIONS], grid, _who),
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
        _("Days from release to the first appointment"),
        "",
        [
            _("released in the period"),
            _("with an appointment after release"),
            # Translators: pilot report, column: released, but no appointment yet
            _("without one yet"),
            # Translators: pilot report, column: the median number of days
            _("median days"),
            # Translators: pilot report, column: 90 in 100 took this many days or fewer
            _("p90 days"),
        ],
        [
            (
                _("participants"),
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
        _("Appointments"),
        [
            (_("Appointments"), _("appointments planned in the period and not cancelled")),
            (
                _("Confirmed with the reminder button"),
                # Translators: pilot report; the two button texts are quoted from the
                # reminder: use the same words as the buttons
                _(
                    "the participant pressed {yes} on a reminder; declined: {no}; "
                    "no answer: neither"
                ).format(yes=_("I'll be there"), no=_("I can't make it")),
            ),
            (_("Attendance"), _("what the officer recorded after the appointment")),
            (
                _("Release to first appointment"),
                _(
                    "for participants released in the period: days from the release date "
                    "to their first appointment on or after it"
                ),
            ),
        ],
        [attendance, first],
    )


def _safety(alerts: Sequence[Any], escalation: timedelta, crisis: tuple[int, int]) -> Section:
    limit = escalation.total_seconds() / 60
    rows = []
    for label, group in [
        (words.severity(s), [a for a in alerts if a.severity == s]) for s in SEVERITIES
    ] + [(total(), list(alerts))]:
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
        _("Alerts by severity, and minutes to acknowledge them"),
        # Translators: pilot report, table header: how serious an alert is
        _("severity"),
        [
            # Translators: pilot report, column: messages to staff about a participant
            _("alerts"),
            # Translators: pilot report, column: alerts a staff member said they have seen
            _("acknowledged"),
            _("not acknowledged"),
            # Translators: pilot report, column: the median number of minutes
            _("median min"),
            # Translators: pilot report, column: 90 in 100 took this many minutes or fewer
            _("p90 min"),
            # Translators: pilot report, column: share in per cent (keep the %)
            _("within escalation time %"),
        ],
        rows,
        total_row=True,
        sum_columns=[0, 1, 2],
        row_sums=[(1, 2, 0)],
        shares=[5],
    ).protect()
    answers = Table(
        "safety_crisis",
        _("Crisis answers sent"),
        "",
        # Translators: pilot report, column: answers the bot sent
        [_("answers"), _("participants")],
        [(_("crisis answers (113 / 112)"), [Cell(crisis[0], crisis[1]), _people(crisis[1])])],
    ).protect()
    minutes = int(limit)
    return Section(
        "safety",
        # Translators: pilot report, section title
        _("Safety"),
        [
            (
                # Translators: pilot report, a message to staff about a participant
                _("Alert"),
                _(
                    "a message to staff about a participant raised in the period (flagged "
                    "message, help request, missed check-ins, appointment not confirmed, ...)"
                ),
            ),
            (
                _("Time to acknowledge"),
                # Translators: pilot report; {button} is the alert's button text
                _(
                    "from the alert to the first staff member pressing {button}; median "
                    "and 90th percentile of acknowledged alerts"
                ).format(button=_("Acknowledge")),
            ),
            (
                _("Within escalation time"),
                # Translators: pilot report; OPRIT_ESCALATION_AFTER is a setting, keep it
                ngettext(
                    "acknowledged within OPRIT_ESCALATION_AFTER ({count} minute), "
                    "before backup officers are called in",
                    "acknowledged within OPRIT_ESCALATION_AFTER ({count} minutes), "
                    "before backup officers are called in",
                    minutes,
                ).format(count=minutes),
            ),
            (
                _("Crisis answer"),
                _(
                    "the caring answer with 113 and 112 the bot sent to a message that "
                    "read as a crisis"
                ),
            ),
        ],
        [counts, answers],
    )


def _domain_header() -> str:
    # Translators: pilot report, table header: a life domain (housing, work, ...)
    return _("domain")


def _help(requests: Sequence[Any]) -> Section:
    def domain(row: Any) -> str:
        return row.domain if row.domain in HELP_DOMAINS else "other"

    by_domain = [[[r for r in requests if domain(r) == d]] for d in HELP_DOMAINS]
    domain_header = _domain_header()
    counts = Table(
        "help_requests",
        _("Help requests by domain"),
        domain_header,
        # Translators: pilot report, column: help requests
        [_("requests")],
        [
            (label, cells[:1])
            for label, cells in _with_totals(
                [words.domain(d) for d in HELP_DOMAINS], by_domain, _who
            )
        ],
        total_row=True,
    ).protect()
    rows = []
    for d in HELP_DOMAINS:
        mine = [r for r in requests if domain(r) == d]
        picked = [_minutes(r.created_at, r.acknowledged_at) / 60 for r in mine if r.acknowledged_at]
        solved = [_minutes(r.created_at, r.resolved_at) / 60 for r in mine if r.resolved_at]
        people = len({r.participant_id for r in mine})
        rows.append((words.domain(d), [_stat(picked, people, 0.5), _stat(solved, people, 0.5)]))
    times = Table(
        "help_times",
        _("Time to pick up and to resolve a help request (hours)"),
        domain_header,
        [_("median hours to pick up"), _("median hours to resolve")],
        rows,
    ).protect()
    return Section(
        "help",
        _("Help requests"),
        [
            (
                _("Help request"),
                # Translators: pilot report; {button} is the participant's button text
                _(
                    "a request made with {button} in the period, by the domain the "
                    "participant chose"
                ).format(button=_("I need help")),
            ),
            (
                _("Pick up / resolve"),
                _(
                    "hours from the request to the officer picking it up / marking it "
                    "resolved; median of the requests that got there"
                ),
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

    grid = [
        [[t for t in tasks if t.domain == d and outcome(t) == o] for o in OUTCOMES] for d in domains
    ]
    domain_header = _domain_header()
    names = [words.domain(d) for d in domains]
    done = Table(
        "plan_tasks",
        _("Plan tasks due in the period, by domain"),
        domain_header,
        [*(words.outcome(o) for o in OUTCOMES), total()],
        _with_totals(names, grid, _who),
        total_row=True,
        total_column=True,
    ).protect()
    blockers = Table(
        "plan_blockers",
        _("Open blockers today, by domain"),
        domain_header,
        # Translators: pilot report, column: plan tasks that cannot go on
        [_("blocked tasks")],
        [
            (label, cells[:1])
            for label, cells in _with_totals(
                names, [[[b for b in blocked if b.domain == d]] for d in domains], _who
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
    labelled = _with_totals([words.domain(k) for k in kinds], grid, _who) if kinds else []
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
        _("Referrals sent in the period, by partner type"),
        # Translators: pilot report, table header: the kind of organisation referred to
        _("partner type"),
        [
            # Translators: pilot report, column: referrals the partner did not accept
            _("not accepted"),
            # Translators: pilot report, column: referrals the partner accepted
            _("accepted"),
            # Translators: pilot report, column: referrals sent to a partner
            _("referrals sent"),
            _("median days to first contact"),
        ],
        rows,
        total_row=True,
        sum_columns=[0, 1, 2],
        row_sums=[(0, 1, 2)],
    ).protect()
    return Section(
        "plan",
        _("Plan and referrals"),
        [
            (
                _("Task on time"),
                _(
                    "a plan task due in the period, marked done on or before its due day; "
                    "{late}: done after it; {not_done}: open or blocked today"
                ).format(late=words.outcome("late"), not_done=words.outcome("not done")),
            ),
            (_("Open blocker"), _("a plan task whose status is blocked today")),
            (
                _("Referral"),
                _(
                    "a referral sent to a partner in the period, by the partner's domain; "
                    "accepted when the partner accepted it"
                ),
            ),
            (
                _("Time to first contact"),
                _(
                    "days from sending the referral to the partner's first contact with "
                    "the participant"
                ),
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

    week = _week()
    traffic = Table(
        "bot_messages",
        _("Messages per week"),
        week,
        [_("in (from participants)"), _("out (to participants)")],
        [
            (w, [cell(counts.get((w, Direction.IN))), cell(counts.get((w, Direction.OUT)))])
            for w in week_list
        ],
        chart="bar",
    ).protect()
    active = Table(
        "reach_active",
        _("Active participants per week"),
        week,
        # Translators: pilot report, column: participants who wrote to the bot that week
        [_("participants who wrote")],
        [
            (w, [_people(found.people if (found := counts.get((w, Direction.IN))) else 0)])
            for w in week_list
        ],
        chart="line",
    ).protect()
    sent = {(d.week, d.kind): d for d in deliveries}
    failures = Table(
        "bot_delivery",
        _("Messages to participants per week by delivery result"),
        week,
        [words.delivery(status) for status in DELIVERY],
        [(w, [cell(sent.get((w, status))) for status in DELIVERY]) for w in week_list],
        chart="bar",
    ).protect()
    languages: dict[str, int] = defaultdict(int)
    for row in cohort:
        languages[row.language] += 1
    named = {code: _language(code) for code in languages}
    used = Table(
        "bot_languages",
        _("Languages participants chose"),
        # Translators: pilot report, table header: a language
        _("language"),
        [_("participants")],
        [
            (named[code], [_people(languages[code])])
            for code in sorted(languages, key=lambda code: named[code])
        ]
        + [(total(), [_people(len(cohort))])],
        total_row=True,
    ).protect()
    section = Section(
        "bot",
        _("The bot itself"),
        [
            (
                _("Messages"),
                _(
                    "messages from participants (in) and from Oprit or staff to "
                    "participants (out) stored in the period"
                ),
            ),
            (
                _("Delivery result"),
                _(
                    "outgoing messages to participants queued that week, by result: "
                    "{sent}; {failed} after retries; {blocked} (the participant blocked the "
                    "bot); {unknown} (the request left, no answer came)"
                ).format(**{str(key): words.delivery(key) for key in DELIVERY}),
            ),
            (_("Languages"), _("the language each participant of the cohort chose")),
        ],
        [traffic, failures, used],
    )
    return section, active


def _language(code: str) -> str:
    """A language's name in the report's language; a code Babel does not know stays."""
    try:
        return language_name(code, current_language())
    except (ValueError, UnknownLocaleError):
        return code


async def build(
    session: AsyncSession,
    first: date,
    last: date,
    *,
    zone: tzinfo,
    escalation: timedelta,
    now: datetime,
    language: str,
    step: Step = lambda done: None,
) -> Report:
    """Every figure for the period from `first` to `last` (local days, both included),
    its words in `language`; `step` is told of each of the report's ten queries as it
    finishes."""
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
    with use_language(language):
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
        language = current_language()
    step(1)
    return Report(first, last, now, str(zone), len(cohort), sections, language)


STEPS = 10
