"""A small pilot with known answers: 30 participants in the cohort (two more enrolled
after the period), four weeks of March 2026 in Amsterdam (UTC+1 until the clock change on
the last Sunday), and for every figure of the report a handful of rows whose count,
median or share the tests work out by hand. Numbers in comments are those answers.

Every name, text, note and chat id is unusual enough that a scan of the report files for
it finds nothing but a leak (`SECRETS`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Alert,
    Appointment,
    Checkin,
    HelpRequest,
    Message,
    OutboxItem,
    Participant,
    Partner,
    PlanTask,
    Referral,
    Staff,
)

FIRST = date(2026, 3, 2)
LAST = date(2026, 3, 29)
WEEKS = ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
TELEGRAM = 7_770_000
OFFICER_TELEGRAM = 6_660_001


def name(n: int) -> str:
    """A participant's (invented) name."""
    return f"Zwaantje Quirijnsdochter{n:02d}"


def telegram_id(n: int) -> int:
    """A participant's Telegram id."""
    return TELEGRAM + n


def secret(kind: str, n: int) -> str:
    """An encrypted text that must never reach the report."""
    return f"GEHEIM-{kind}-{n:03d}-vertrouwelijk"


def utc(day: int, hour: int = 9, minute: int = 0, month: int = 3) -> datetime:
    """A moment in 2026, UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _status(n: int) -> str:
    if n <= 3:
        return "in_detention"  # 3
    if n <= 5:
        return "registering"  # 2
    if n <= 25:
        return "active"  # 20
    if n <= 28:
        return "paused"  # 3
    return "unreachable"  # 2


def _release(n: int) -> date | None:
    if n <= 12:
        return date(2026, 3, 5)  # enrolled before release: 12 (released in the period)
    if n <= 24:
        return date(2026, 2, 1)  # after release: 12
    return None  # not recorded: 6


def _language(n: int) -> str:
    if n <= 20:
        return "nl"  # 20
    if n <= 25:
        return "en"  # 5
    if n <= 28:
        return "ar"  # 3
    return "tr"  # 2


SECRETS: list[str] = []


async def seed(session: AsyncSession) -> dict[int, int]:
    """Fill the database; returns participant number -> database id."""
    officer = Staff(
        telegram_id=OFFICER_TELEGRAM, role="officer", name="Officier Brechtje Hazelhoff"
    )
    session.add(officer)
    await session.flush()
    ids: dict[int, int] = {}
    for n in range(1, 33):
        person = Participant(
            telegram_id=telegram_id(n),
            name=name(n),
            language=_language(n),
            status=_status(n),
            officer_id=officer.id,
            consent_at=utc(16, month=2) if n > 5 else None,
            # 31 and 32 come after the period: not in the cohort
            created_at=utc(15, 10, month=2) if n <= 30 else utc(10, month=4),
            release_date=_release(n),
            facility=secret("facility", n),
        )
        session.add(person)
        await session.flush()
        ids[n] = person.id
    p = ids.__getitem__

    def message(n: int, direction: str, at: datetime) -> None:
        session.add(
            Message(
                participant_id=p(n),
                direction=direction,
                kind="text",
                chat_id=telegram_id(n),
                text=secret("message", n),
                at=at,
            )
        )

    # Week 1: 10 people write 2 each, plus one at 00:30 local on the first day = 21 in,
    # 11 people; 20 out to 20 people. Week 2: 3 people write 1 each (<5). Week 3: nothing.
    # Week 4: 20 people write 1 each, plus 23:30 local on the last day = 21 in, 20 people.
    for n in range(6, 16):
        message(n, "in", utc(3, 10))
        message(n, "in", utc(4, 10))
    message(16, "in", utc(1, 23, 30))
    for n in range(6, 26):
        message(n, "out", utc(3, 11))
    for n in range(6, 9):
        message(n, "in", utc(10))
    for n in range(6, 26):
        message(n, "in", utc(24))
    message(16, "in", utc(29, 21, 30))  # 23:30 CEST on the 29th: in
    message(16, "in", utc(29, 22, 30))  # 00:30 CEST on the 30th: out
    message(6, "in", utc(20, month=2))  # before the period

    def outbox(n: int, status: str, at: datetime, priority: int = 20) -> None:
        session.add(
            OutboxItem(
                kind="reply",
                priority=priority,
                chat_id=telegram_id(n),
                payload={"text": secret("outbox", n)},
                participant_id=p(n),
                status=status,
                created_at=at,
                due_at=at,
                sent_at=at if status == "sent" else None,
            )
        )

    # Week 1: sent 10, failed 6, blocked 2 (<5). Week 2: 7 crisis answers to 7 people.
    for n in range(6, 16):
        outbox(n, "sent", utc(3))
    for n in range(16, 22):
        outbox(n, "failed", utc(3))
    for n in (29, 30):
        outbox(n, "blocked", utc(3))
    for n in range(6, 13):
        outbox(n, "sent", utc(11), priority=0)

    # Check-ins prompted Monday 2 March to 20 people: 12 answered within 2 hours, 2 after
    # 30 hours (60.0 % within 24 h). Moods: good 6, okay 5, bad 3 (<5). Housing worried
    # 7, money problem 5, care worried 2 (<5), work fine for all, paperwork 0.
    for n in range(6, 26):
        done = utc(2, 11) if n <= 17 else utc(3, 15) if n <= 19 else None
        mood = "good" if n <= 11 else "okay" if n <= 16 else "bad"
        answers = {"housing": "worried" if n <= 12 else "fine", "work": "fine"}
        if n <= 10:
            answers["money"] = "problem"
        if n in (11, 12):
            answers["care"] = "worried"
        session.add(
            Checkin(
                participant_id=p(n),
                status="completed" if done else "missed",
                step="done",
                token=f"t{n}",
                prompted_at=utc(2),
                completed_at=done,
                mood=mood if done else None,
                answers=answers if done else None,
                note=secret("checkin", n) if done else None,
            )
        )

    def appointment(n: int, at: datetime, confirmation: str, attendance: str | None) -> None:
        session.add(
            Appointment(
                participant_id=p(n),
                at=at,
                with_org=secret("org", n),
                location=secret("location", n),
                note=secret("appointment", n),
                confirmation=confirmation,
                attendance=attendance,
                status="scheduled",
            )
        )

    # confirmed: attended 8, no-show 2, not recorded 5; declined: rescheduled 3;
    # no answer: attended 6, no-show 5; a cancelled one does not count.
    # Release (5 March) to first appointment for 6..12: 1..7 days (median 4, p90 7).
    for n in range(6, 14):
        appointment(n, utc(5 + n - 5, 10), "confirmed", "attended")
    for n in (14, 15):
        appointment(n, utc(12), "confirmed", "no-show")
    for n in range(16, 21):
        appointment(n, utc(12), "confirmed", None)
    for n in range(21, 26):
        appointment(n, utc(13), "pending", "no-show")
    for n in range(6, 12):
        appointment(n, utc(20), "pending", "attended")
    for n in (26, 27, 28):
        appointment(n, utc(18), "declined", "rescheduled")
    session.add(
        Appointment(participant_id=p(1), at=utc(9), with_org=secret("org", 1), status="cancelled")
    )

    def alert(n: int, severity: str, kind: str, at: datetime, seen: int | None) -> None:
        session.add(
            Alert(
                participant_id=p(n),
                kind=kind,
                severity=severity,
                excerpt=secret("alert", n),
                status="open" if seen is None else "acknowledged",
                created_at=at,
                acknowledged_at=at + timedelta(minutes=seen) if seen is not None else None,
                acknowledged_by=officer.id if seen is not None else None,
            )
        )

    # critical 6 (acknowledged after 10..60 min: median 35, p90 60, 50 % within 30 min);
    # high 5 (5 min each); medium 2 (<5, never acknowledged); low 6: /stop by 6 people.
    for minutes, n in zip((10, 20, 30, 40, 50, 60), range(6, 12), strict=True):
        alert(n, "critical", "flag", utc(10), minutes)
    for n in range(12, 17):
        alert(n, "high", "flag", utc(11), 5)
    for n in (17, 18):
        alert(n, "medium", "help_request", utc(12), None)
    for n in (20, 21, 22, 26, 27, 28):
        alert(n, "low", "paused", utc(16), None)
    alert(6, "critical", "flag", utc(20, month=2), 1)  # before the period

    # Help: housing 6 (picked up after 2 h, resolved after 24 h), money 5 (picked up
    # after 1..5 h: median 3; two resolved after 10 and 20 h: median 15), urgent 1 (<5).
    for n in range(6, 12):
        session.add(
            HelpRequest(
                participant_id=p(n),
                domain="housing",
                text=secret("help", n),
                created_at=utc(4),
                acknowledged_at=utc(4, 11),
                resolved_at=utc(5),
                status="resolved",
            )
        )
    for hours, n in zip((1, 2, 3, 4, 5), range(12, 17), strict=True):
        session.add(
            HelpRequest(
                participant_id=p(n),
                domain="money",
                text=secret("help", n),
                created_at=utc(6),
                acknowledged_at=utc(6) + timedelta(hours=hours),
                resolved_at=utc(6) + timedelta(hours=10 * hours) if hours <= 2 else None,
            )
        )
    session.add(
        HelpRequest(
            participant_id=p(17), domain="urgent", text=secret("help", 17), created_at=utc(7)
        )
    )

    def task(n: int, domain: str, due: date | None, status: str, done: datetime | None) -> None:
        session.add(
            PlanTask(
                participant_id=p(n),
                domain=domain,
                title=secret("task", n),
                owner="participant",
                due_on=due,
                status=status,
                done_at=done,
                notes=secret("tasknote", n),
            )
        )

    # Housing: 7 on time (one done 23:30 local on its due day), 2 late; money: 5 not
    # done, 1 blocked (not done); paperwork: 5 dropped. Blocked today: money 1, care 1.
    task(6, "housing", date(2026, 3, 10), "done", utc(10, 22, 30))
    for n in range(7, 13):
        task(n, "housing", date(2026, 3, 10), "done", utc(9))
    for n in (13, 14):
        task(n, "housing", date(2026, 3, 10), "done", utc(11))
    for n in range(6, 11):
        task(n, "money", date(2026, 3, 20), "open", None)
    task(11, "money", date(2026, 3, 20), "blocked", None)
    for n in range(6, 11):
        task(n, "paperwork", date(2026, 3, 25), "dropped", None)
    task(12, "care", None, "blocked", None)
    task(6, "housing", date(2026, 4, 15), "open", None)  # after the period

    housing = Partner(
        name="Woonstichting Kwakkelhuis", domain="housing", contact=secret("partner", 1)
    )
    money = Partner(name="Schuldhulp Pietersbergen", domain="money", contact=secret("partner", 2))
    session.add_all([housing, money])
    await session.flush()
    # housing: 6 sent, 5 accepted, first contact after 2, 4, 6, 8, 10 days (median 6);
    # money: 2 sent, none accepted.
    for wait, n in zip((2, 4, 6, 8, 10, None), range(6, 12), strict=True):
        sent = date(2026, 3, 3)
        session.add(
            Referral(
                participant_id=p(n),
                partner_id=housing.id,
                status="first_contact" if wait else "sent",
                sent_on=sent,
                accepted_on=sent + timedelta(days=1) if wait else None,
                first_contact_on=sent + timedelta(days=wait) if wait else None,
                note=secret("referral", n),
                outcome=secret("outcome", n),
            )
        )
    for n in (12, 13):
        session.add(
            Referral(
                participant_id=p(n),
                partner_id=money.id,
                sent_on=date(2026, 3, 4),
                note=secret("referral", n),
            )
        )
    await session.flush()
    SECRETS[:] = [
        *(name(n) for n in range(1, 33)),
        *(str(telegram_id(n)) for n in range(1, 33)),
        str(OFFICER_TELEGRAM),
        "Brechtje Hazelhoff",
        "Kwakkelhuis",
        "Pietersbergen",
        "GEHEIM",
        "vertrouwelijk",
    ]
    return ids
