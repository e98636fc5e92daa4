"""Generating a big database fast: 50,000 participants and 5 million messages.

Rows go in with SQLite's executemany in large transactions, straight into the schema the
migrations made. Message text is encrypted like the bot does it (Fernet, the benchmark's
key), but a few dozen tokens are made once and reused: encrypting 5 million texts would
take longer than the whole benchmark, and the database cannot tell the difference.

The shape: 1,250 officers with 40 participants each; 100 messages per participant over
the last 800 days (60 % in, 40 % out, 1 % of the inbound flagged, each flag with its
alert), one participant with 20,000 messages (a heavy case), 2 check-ins, one
appointment and every 10th participant a help request.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import Context
from benchmarks.harness import Database, bot_env, workdir
from bot import crypto
from tests.conftest import TEST_KEY
from tests.e2e.botprocess import oprit_json

FIRST_PARTICIPANT_TELEGRAM_ID = 8_000_001
FIRST_OFFICER_TELEGRAM_ID = 6_200_001
PER_OFFICER = 40
DAYS = 800
CHUNK = 50_000

TEXTS = (
    "Ik heb morgen een afspraak bij de gemeente.",
    "Mijn uitkering is nog steeds niet gestort.",
    "Kan je me helpen met mijn DigiD?",
    "Ik heb een brief gekregen van de belasting.",
    "Het gaat goed met me, ik heb werk gevonden.",
    "Ik slaap slecht de laatste tijd.",
    "Hoe laat is de afspraak bij de reclassering?",
    "Ik moet nog een zorgverzekering afsluiten.",
    "Mijn huisbaas wil dat ik vertrek.",
    "Bedankt voor je hulp vandaag!",
    "Thanks, I will be there at ten.",
    "Ik heb een sollicitatiegesprek volgende week.",
)
FLAGGED = ("ik wil dood", "ik trek het niet meer", "ze gaan hem pakken")


@dataclass(frozen=True)
class Shape:
    """How big the generated database is."""

    participants: int = 50_000
    messages: int = 5_000_000
    heavy_messages: int = 20_000


def _stamp(moment: datetime) -> str:
    """A UTC moment the way SQLAlchemy stores DateTime on SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _tokens(texts: tuple[str, ...], copies: int) -> list[str]:
    keyring = crypto.Keyring([TEST_KEY.encode()])
    return [keyring.encrypt(text) for text in texts for _ in range(copies)]


def _message_rows(
    shape: Shape, now: datetime, rng: random.Random, plain: list[str], flagged: list[str]
) -> Iterator[tuple[object, ...]]:
    """Every message row, participant by participant, oldest first (so indexes grow at
    their end and the insert stays fast); `flagged` tokens mark the 1 % that get alerts."""
    typical, extra = divmod(shape.messages - shape.heavy_messages, shape.participants - 1)
    start = now - timedelta(days=DAYS)
    for participant in range(1, shape.participants + 1):
        count = shape.heavy_messages if participant == 1 else typical + (participant <= extra + 1)
        chat = FIRST_PARTICIPANT_TELEGRAM_ID + participant - 1
        # The heavy case wrote most of it in the last 30 days.
        first = now - timedelta(days=30) if participant == 1 else start
        step = (now - first) / (count + 1)
        for number in range(1, count + 1):
            inbound = rng.random() < 0.6
            flag = inbound and rng.random() < 0.01
            token = rng.choice(flagged if flag else plain)
            yield (
                participant,
                "in" if inbound else "out",
                "text",
                chat,
                number,
                f"m:{chat}:{number}" if inbound else None,
                token,
                _stamp(first + step * number),
            )


def generate(database: Path, officer_staff_id: int, shape: Shape) -> dict[str, float]:
    """Fill a migrated SQLite database; returns seconds per table."""
    rng = random.Random(10)
    now = datetime.now(UTC)
    seconds: dict[str, float] = {}
    connection = sqlite3.connect(database, timeout=60)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    try:
        started = time.perf_counter()
        officers = shape.participants // PER_OFFICER
        connection.executemany(
            "INSERT INTO staff (telegram_id, role, name, is_backup, language, active, "
            "unreachable_notice_sent, created_at) VALUES (?, 'officer', ?, 0, 'nl', 1, 0, ?)",
            [
                (FIRST_OFFICER_TELEGRAM_ID + n, f"Officer {n}", _stamp(now))
                for n in range(1, officers)
            ],
        )
        staff_ids = [officer_staff_id] + [
            row[0]
            for row in connection.execute(
                "SELECT id FROM staff WHERE telegram_id >= ? ORDER BY id",
                (FIRST_OFFICER_TELEGRAM_ID,),
            )
        ]
        connection.executemany(
            "INSERT INTO participants (id, telegram_id, name, language, status, officer_id, "
            "consent_at, created_at, missed_checkins) VALUES (?, ?, ?, 'nl', 'active', ?, ?, ?, 0)",
            [
                (
                    n,
                    FIRST_PARTICIPANT_TELEGRAM_ID + n - 1,
                    f"Deelnemer {n}",
                    staff_ids[(n - 1) // PER_OFFICER % len(staff_ids)],
                    _stamp(now - timedelta(days=DAYS)),
                    _stamp(now - timedelta(days=DAYS)),
                )
                for n in range(1, shape.participants + 1)
            ],
        )
        connection.commit()
        seconds["participants"] = time.perf_counter() - started

        started = time.perf_counter()
        flagged = _tokens(FLAGGED, 2)
        rows = _message_rows(shape, now, rng, _tokens(TEXTS, 3), flagged)
        while True:
            chunk = [row for _, row in zip(range(CHUNK), rows, strict=False)]
            if not chunk:
                break
            connection.executemany(
                "INSERT INTO messages (participant_id, direction, kind, chat_id, "
                "telegram_message_id, dedupe_key, text, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                chunk,
            )
        connection.commit()
        seconds["messages"] = time.perf_counter() - started

        started = time.perf_counter()
        _generate_case_tables(connection, shape, now, rng, flagged)
        connection.commit()
        seconds["other_tables"] = time.perf_counter() - started
        started = time.perf_counter()
        connection.execute("ANALYZE")
        connection.commit()
        seconds["analyze"] = time.perf_counter() - started
    finally:
        connection.close()
    return seconds


def _generate_case_tables(
    connection: sqlite3.Connection,
    shape: Shape,
    now: datetime,
    rng: random.Random,
    flagged: list[str],
) -> None:
    """Alerts for the flagged messages, check-ins, appointments and help requests."""
    categories, matches = _tokens(('["self_harm"]', '["ik wil dood"]'), 1)
    excerpt = _tokens(("ik wil dood",), 1)[0]
    marks = ", ".join("?" for _ in flagged)
    connection.execute(
        "INSERT INTO alerts (participant_id, kind, severity, categories, matches, excerpt, "
        "message_id, status, created_at) "
        "SELECT participant_id, 'flag', 'critical', ?, ?, ?, id, "
        f"'resolved', at FROM messages WHERE direction = 'in' AND text IN ({marks})",
        (categories, matches, excerpt, *flagged),
    )
    # Everything the models encrypt is stored as a token, as the bot would store it.
    answers = _tokens((json.dumps({"housing": "fine", "work": "problem", "money": "fine"}),), 1)[0]
    moods = dict(zip(("good", "okay", "bad"), _tokens(("good", "okay", "bad"), 1), strict=True))
    money = _tokens(("money",), 1)[0]
    checkins = []
    appointments = []
    requests = []
    where = _tokens(("Stadhuis, balie 3",), 1)[0]
    org = _tokens(("Reclassering",), 1)[0]
    help_text = _tokens(("Ik heb een schuld bij de zorgverzekeraar.",), 1)[0]
    for participant in range(1, shape.participants + 1):
        for days_ago in (3, 10):
            moment = _stamp(now - timedelta(days=days_ago, hours=rng.random() * 12))
            checkins.append((participant, moods[rng.choice(tuple(moods))], answers, moment))
        at = _stamp(now + timedelta(days=rng.randint(-40, 40), hours=rng.random() * 8))
        appointments.append((participant, at, org, where, _stamp(now - timedelta(days=45))))
        if participant % 10 == 0:
            requests.append((participant, money, help_text, _stamp(now - timedelta(days=5))))
    connection.executemany(
        "INSERT INTO checkins (participant_id, status, step, token, prompted_at, completed_at, "
        "mood, answers, created_at) VALUES (?1, 'completed', 'done', 'tok', ?4, ?4, ?2, ?3, ?4)",
        checkins,
    )
    connection.executemany(
        "INSERT INTO appointments (participant_id, at, with_org, location, status, "
        "confirmation, created_at) VALUES (?, ?, ?, ?, 'scheduled', 'pending', ?)",
        appointments,
    )
    connection.executemany(
        "INSERT INTO help_requests (participant_id, domain, text, status, created_at) "
        "VALUES (?, ?, ?, 'open', ?)",
        requests,
    )


@dataclass(frozen=True)
class Generated:
    """A scenario's generated database with its officer, ready for `oprit` commands."""

    database: Database
    path: Path
    cwd: Path
    env: dict[str, str]
    shape: Shape
    seconds: dict[str, float]


async def national_database(ctx: Context, name: str, officer: int, **extra: str) -> Generated:
    """The national roll-out's database (a small one with `--quick`) for scenario `name`,
    generated around an officer added through the real CLI."""
    shape = (
        Shape()
        if not ctx.quick
        else Shape(participants=2_000, messages=200_000, heavy_messages=5_000)
    )
    database = ctx.databases.sqlite(name)
    cwd = workdir(ctx.root, name)
    env = bot_env(ctx.api, database, **extra)
    added = oprit_json(
        env, cwd, "staff", "add", "--telegram-id", str(officer), "--role", "officer",
        "--name", "Officer Bench",
    )  # fmt: skip
    path = Path(database.url.split("///", 1)[1])
    seconds = generate(path, int(added["id"]), shape)
    return Generated(database, path, cwd, env, shape, seconds)
