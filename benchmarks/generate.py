"""Generating a big database fast: 50,000 participants and 5 million messages.

One producer makes every row (`_tables`), straight into the schema the migrations made;
two writers load them: SQLite with executemany in large transactions, PostgreSQL with
COPY (asyncpg), the indexes that back no constraint built after the load and foreign-key
triggers off for the loading session (the rows are consistent by construction). Message
text is encrypted like the bot does it (Fernet, the benchmark's key), but a few dozen
tokens are made once and reused: encrypting 5 million texts would take longer than the
whole benchmark, and the database cannot tell the difference.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Protocol

import asyncpg

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

Row = tuple[object, ...]
# How a moment is written: a string for SQLite (as SQLAlchemy stores it), the aware
# datetime itself for PostgreSQL.
Stamp = Callable[[datetime], object]


@dataclass(frozen=True)
class Shape:
    """How big the generated database is."""

    participants: int = 50_000
    messages: int = 5_000_000
    heavy_messages: int = 20_000


QUICK = Shape(participants=2_000, messages=200_000, heavy_messages=5_000)


@dataclass(frozen=True)
class Table:
    """One table's rows, in the order they are loaded (`rows` may be made lazily)."""

    name: str
    columns: tuple[str, ...]
    rows: Iterable[Row]


def sqlite_stamp(moment: datetime) -> str:
    """A UTC moment the way SQLAlchemy stores DateTime on SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _same(moment: datetime) -> datetime:
    return moment


def _tokens(texts: tuple[str, ...], copies: int) -> list[str]:
    keyring = crypto.Keyring([TEST_KEY.encode()])
    return [keyring.encrypt(text) for text in texts for _ in range(copies)]


def _tables(shape: Shape, officer_staff_id: int, now: datetime, stamp: Stamp) -> Iterator[Table]:
    """Every table of the national database, in load order, with explicit ids."""
    rng = random.Random(10)
    officers = shape.participants // PER_OFFICER
    staff_ids = [officer_staff_id + n for n in range(officers)]
    yield Table(
        "staff",
        ("id", "telegram_id", "role", "name", "is_backup", "language", "active",
         "unreachable_notice_sent", "created_at"),
        [
            (staff_ids[n], FIRST_OFFICER_TELEGRAM_ID + n, "officer", f"Officer {n}", False,
             "nl", True, False, stamp(now))
            for n in range(1, officers)
        ],
    )  # fmt: skip
    joined = stamp(now - timedelta(days=DAYS))
    yield Table(
        "participants",
        ("id", "telegram_id", "name", "language", "status", "officer_id", "consent_at",
         "created_at", "missed_checkins"),
        [
            (n, FIRST_PARTICIPANT_TELEGRAM_ID + n - 1, f"Deelnemer {n}", "nl", "active",
             staff_ids[(n - 1) // PER_OFFICER % len(staff_ids)], joined, joined, 0)
            for n in range(1, shape.participants + 1)
        ],
    )  # fmt: skip
    flagged_tokens = _tokens(FLAGGED, 2)
    flags: list[Row] = []
    yield Table(
        "messages",
        ("id", "participant_id", "direction", "kind", "chat_id", "telegram_message_id",
         "dedupe_key", "text", "at"),
        _message_rows(shape, now, rng, stamp, _tokens(TEXTS, 3), flagged_tokens, flags),
    )  # fmt: skip
    yield from _case_tables(shape, now, rng, stamp, flags)


def _message_rows(
    shape: Shape,
    now: datetime,
    rng: random.Random,
    stamp: Stamp,
    plain: list[str],
    flagged: list[str],
    flags: list[Row],
) -> Iterator[Row]:
    """Every message row, participant by participant, oldest first (so indexes grow at
    their end and the insert stays fast); the 1 % flagged ones are noted in `flags`
    (participant, message id, moment) for their alerts."""
    typical, extra = divmod(shape.messages - shape.heavy_messages, shape.participants - 1)
    start = now - timedelta(days=DAYS)
    message_id = 0
    for participant in range(1, shape.participants + 1):
        count = shape.heavy_messages if participant == 1 else typical + (participant <= extra + 1)
        chat = FIRST_PARTICIPANT_TELEGRAM_ID + participant - 1
        # The heavy case wrote most of it in the last 30 days.
        first = now - timedelta(days=30) if participant == 1 else start
        step = (now - first) / (count + 1)
        for number in range(1, count + 1):
            message_id += 1
            inbound = rng.random() < 0.6
            flag = inbound and rng.random() < 0.01
            at = stamp(first + step * number)
            if flag:
                flags.append((participant, message_id, at))
            yield (
                message_id,
                participant,
                "in" if inbound else "out",
                "text",
                chat,
                number,
                f"m:{chat}:{number}" if inbound else None,
                rng.choice(flagged if flag else plain),
                at,
            )


def _case_tables(
    shape: Shape, now: datetime, rng: random.Random, stamp: Stamp, flags: list[Row]
) -> Iterator[Table]:
    """Alerts for the flagged messages (read once the messages are loaded), check-ins,
    appointments and help requests."""
    # Everything the models encrypt is stored as a token, as the bot would store it.
    categories, matches = _tokens(('["self_harm"]', '["ik wil dood"]'), 1)
    excerpt = _tokens(("ik wil dood",), 1)[0]
    yield Table(
        "alerts",
        ("participant_id", "kind", "severity", "categories", "matches", "excerpt",
         "message_id", "status", "created_at"),
        (
            (participant, "flag", "critical", categories, matches, excerpt, message, "resolved",
             at)
            for participant, message, at in flags
        ),
    )  # fmt: skip
    answers = _tokens((json.dumps({"housing": "fine", "work": "problem", "money": "fine"}),), 1)[0]
    moods = dict(zip(("good", "okay", "bad"), _tokens(("good", "okay", "bad"), 1), strict=True))
    money = _tokens(("money",), 1)[0]
    checkins: list[Row] = []
    appointments: list[Row] = []
    requests: list[Row] = []
    where = _tokens(("Stadhuis, balie 3",), 1)[0]
    org = _tokens(("Reclassering",), 1)[0]
    help_text = _tokens(("Ik heb een schuld bij de zorgverzekeraar.",), 1)[0]
    for participant in range(1, shape.participants + 1):
        for days_ago in (3, 10):
            moment = stamp(now - timedelta(days=days_ago, hours=rng.random() * 12))
            mood = moods[rng.choice(tuple(moods))]
            checkins.append(
                (participant, "completed", "done", "tok", moment, moment, mood, answers, moment)
            )
        at = stamp(now + timedelta(days=rng.randint(-40, 40), hours=rng.random() * 8))
        appointments.append(
            (participant, at, org, where, "scheduled", "pending", stamp(now - timedelta(days=45)))
        )
        if participant % 10 == 0:
            requests.append((participant, money, help_text, "open", stamp(now - timedelta(days=5))))
    yield Table(
        "checkins",
        ("participant_id", "status", "step", "token", "prompted_at", "completed_at", "mood",
         "answers", "created_at"),
        checkins,
    )  # fmt: skip
    yield Table(
        "appointments",
        ("participant_id", "at", "with_org", "location", "status", "confirmation", "created_at"),
        appointments,
    )
    yield Table(
        "help_requests", ("participant_id", "domain", "text", "status", "created_at"), requests
    )


class Writer(Protocol):
    """Loads tables into one database."""

    stamp: Stamp

    async def load(self, table: Table) -> None:
        """Insert every row of one table."""

    async def finish(self) -> None:
        """Gather the planner's statistics and close."""


class SqliteWriter:
    """executemany in chunks, one transaction per table."""

    stamp: Stamp = staticmethod(sqlite_stamp)

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, timeout=60)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=OFF")

    async def load(self, table: Table) -> None:
        marks = ", ".join("?" for _ in table.columns)
        sql = f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})"
        rows = iter(table.rows)
        while chunk := list(islice(rows, CHUNK)):
            self.connection.executemany(sql, chunk)
        self.connection.commit()

    async def finish(self) -> None:
        try:
            self.connection.execute("ANALYZE")
            self.connection.commit()
        finally:
            self.connection.close()


class PostgresWriter:
    """COPY per table; indexes that back no constraint are dropped for the load and made
    again after it, and the id sequences moved past the explicit ids."""

    stamp: Stamp = staticmethod(_same)

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    @classmethod
    async def connect(cls, url: str) -> PostgresWriter:
        """A loading session on the database of a SQLAlchemy URL."""
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        # Foreign-key triggers off for this session only: the rows are made consistent.
        await connection.execute("SET session_replication_role = replica")
        await connection.execute("SET maintenance_work_mem = '256MB'")
        return cls(connection)

    async def load(self, table: Table) -> None:
        indexes = await self.connection.fetch(
            "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = $1::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            table.name,
        )
        for index in indexes:
            await self.connection.execute(f'DROP INDEX "{index["name"]}"')
        await self.connection.copy_records_to_table(
            table.name, records=table.rows, columns=list(table.columns)
        )
        for index in indexes:
            await self.connection.execute(index["definition"])
        if "id" in table.columns:
            await self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT max(id) FROM {table.name}))"
            )

    async def finish(self) -> None:
        try:
            # VACUUM as well: autovacuum would otherwise start on 5 M new rows mid-run.
            await self.connection.execute("VACUUM (ANALYZE)")
        finally:
            await self.connection.close()


async def generate(writer: Writer, officer_staff_id: int, shape: Shape) -> dict[str, float]:
    """Fill a migrated database through `writer`; returns seconds per table."""
    seconds: dict[str, float] = {}
    for table in _tables(shape, officer_staff_id, datetime.now(UTC), writer.stamp):
        started = time.perf_counter()
        await writer.load(table)
        seconds[table.name] = time.perf_counter() - started
    started = time.perf_counter()
    await writer.finish()
    seconds["analyze"] = time.perf_counter() - started
    return seconds


@dataclass(frozen=True)
class Generated:
    """A scenario's generated database with its officer, ready for `oprit` commands."""

    database: Database
    cwd: Path
    env: dict[str, str]
    shape: Shape
    seconds: dict[str, float]
    database_mb: int


async def national_database(
    ctx: Context, name: str, officer: int, kind: str = "sqlite", **extra: str
) -> Generated:
    """The national roll-out's database (a small one with `--quick`) on SQLite or
    PostgreSQL for scenario `name`, generated around an officer added through the real CLI."""
    shape = QUICK if ctx.quick else Shape()
    database = ctx.databases.sqlite(name) if kind == "sqlite" else ctx.databases.postgres(name)
    if database is None:
        raise RuntimeError(f"no PostgreSQL server here: {ctx.databases.postgres_error}")
    cwd = workdir(ctx.root, name)
    env = bot_env(ctx.api, database, **extra)
    added = oprit_json(
        env, cwd, "staff", "add", "--telegram-id", str(officer), "--role", "officer",
        "--name", "Officer Bench",
    )  # fmt: skip
    if kind == "sqlite":
        path = Path(database.url.split("///", 1)[1])
        seconds = await generate(SqliteWriter(path), int(added["id"]), shape)
        size = path.stat().st_size
    else:
        writer = await PostgresWriter.connect(database.url)
        seconds = await generate(writer, int(added["id"]), shape)
        size = int(await database.scalar("SELECT pg_database_size(current_database())"))
    return Generated(database, cwd, env, shape, seconds, round(size / 1e6))
