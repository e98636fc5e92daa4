"""The pieces every scenario uses: a timed local Telegram, the bot as a process, databases.

Everything runs on 127.0.0.1. The local Telegram of the e2e tests (`bot/localtelegram/`)
runs in a thread of the benchmark process; the bot under test is a separate process
(`python -m bot run`), exactly as the README starts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.localtelegram import Call, JsonDict, LocalTelegram, utf16_len
from tests.conftest import TEST_KEY, TEST_TOKEN
from tests.e2e.botprocess import oprit
from tests.postgres_server import PostgresUnavailable, ThrowawayPostgres

REPO = Path(__file__).resolve().parent.parent
# The checkout whose bot is measured (another one to compare before/after a change). Not
# an OPRIT_ variable: importing tests.conftest removes those from the environment.
BOT_SOURCE = Path(os.environ.get("BENCH_BOT_SOURCE", str(REPO)))
OPRIT = [sys.executable, "-m", "bot"]
STOP_TIMEOUT = 20.0


class TimedFakeApi(LocalTelegram):
    """The test fake, plus: when each update became available (pushed) and when it was
    handed out in getUpdates, and bulk pushes."""

    def __init__(self) -> None:
        super().__init__(token=TEST_TOKEN, every_chat_open=True)
        self.available: dict[int, float] = {}
        self.available_wall: dict[int, float] = {}
        self.handed_out: dict[int, float] = {}
        self.handed_out_wall: dict[int, float] = {}
        self.last_poll_started = 0.0

    def push_update(self, update: JsonDict) -> int:
        """Queue one update; from now on a bot could have it (latencies start here)."""
        with self._cond:  # held: no getUpdates can hand it out before it is timed
            at, wall = time.monotonic(), time.time()
            update_id = super().push_update(update)
            self.available[update_id] = at
            self.available_wall[update_id] = wall
        return update_id

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        with self._cond:
            self.last_poll_started = time.monotonic()
            self._cond.notify_all()
        batch = await super()._get_updates(params)
        at, wall = time.monotonic(), time.time()
        with self._cond:
            for update in batch:
                self.handed_out.setdefault(update["update_id"], at)
                self.handed_out_wall.setdefault(update["update_id"], wall)
        return batch

    def push_many(self, updates: Sequence[JsonDict]) -> list[int]:
        """Queue many updates at once (checked first), so the bot sees them as one backlog."""
        for update in updates:
            problems = self.spec.check_value({"update_id": 0, **update}, ["Update"], "update")
            if problems:
                raise ValueError("unrealistic update: " + "; ".join(problems))
        ids = []
        with self._cond:
            for update in updates:
                update = copy.deepcopy(update)
                update_id = update.setdefault("update_id", self._next_update_id)
                self._next_update_id = max(self._next_update_id, update_id + 1)
                self._learn_from_update(update)
                self._updates.append(update)
                ids.append(int(update_id))
            self._updates.sort(key=lambda u: u["update_id"])
            self._cond.notify_all()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake_pollers)
        return ids

    def sends(self, since: float = 0.0, method: str = "sendMessage") -> list[Call]:
        """Calls of one method that arrived at or after `since` (monotonic)."""
        with self._cond:
            return [c for c in self._calls if c.method == method and c.at >= since]

    def forget_history(self) -> None:
        """Drop recorded calls, stored messages and hand-out times (keeps memory bounded)."""
        with self._cond:
            self._calls.clear()
            self._violations.clear()
            self._messages.clear()
            self.available.clear()
            self.available_wall.clear()
            self.handed_out.clear()
            self.handed_out_wall.clear()


def text_update(
    api: LocalTelegram, chat_id: int, text_: str, first_name: str = "Deelnemer"
) -> JsonDict:
    """A private-chat text message as Telegram sends it (commands get their entity)."""
    person = {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": "nl"}
    message: JsonDict = {
        "message_id": api.next_message_id(chat_id),
        "from": person,
        "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        "date": int(time.time()),
        "text": text_,
    }
    if text_.startswith("/"):
        command = text_.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
    return {"message": message}


# --- numbers ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def distribution(values: Sequence[float]) -> dict[str, float]:
    """min, p50, p95, p99, max and the count of a list of samples."""
    return {
        "n": len(values),
        "min": min(values) if values else float("nan"),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


# --- databases -------------------------------------------------------------------------------


@dataclass
class Database:
    """One database the bot runs on, and a connection for the benchmark to look into it."""

    url: str
    kind: str
    engine: AsyncEngine = field(init=False)

    def __post_init__(self) -> None:
        args: dict[str, Any] = {"connect_args": {"timeout": 30}} if self.kind == "sqlite" else {}
        self.engine = create_async_engine(self.url, **args)

    async def scalar(self, sql: str, **params: Any) -> Any:
        """One value from a read-only query."""
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        """All rows of a read-only query."""
        async with self.engine.connect() as connection:
            return list((await connection.execute(text(sql), params)).all())

    async def dispose(self) -> None:
        """Close the benchmark's connections."""
        await self.engine.dispose()


class Databases:
    """Fresh databases: SQLite files in a work dir, PostgreSQL in one throwaway server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._postgres: ThrowawayPostgres | None = None
        self.postgres_error: str | None = None

    def sqlite(self, name: str) -> Database:
        """A new SQLite database file."""
        path = self.root / name / "data" / "oprit.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return Database(f"sqlite+aiosqlite:///{path}", "sqlite")

    def postgres(self, name: str) -> Database | None:
        """A new PostgreSQL database (None when no server can be started here)."""
        if self._postgres is None and self.postgres_error is None:
            server = ThrowawayPostgres()
            try:
                server.start()
            except PostgresUnavailable as error:
                self.postgres_error = error.reason
                return None
            self._postgres = server
        if self._postgres is None:
            return None
        return Database(self._postgres.create_database(name), "postgresql")

    def close(self) -> None:
        """Stop the PostgreSQL server (and remove its files)."""
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None


# --- the bot as a process --------------------------------------------------------------------


def bot_env(api: LocalTelegram, database: Database, **extra: str) -> dict[str, str]:
    """Only what Oprit needs; defaults everywhere else (OPRIT_SCHEDULER_TICK stays 15s)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPRIT_")}
    env.update(
        {
            "OPRIT_BOT_TOKEN": TEST_TOKEN,
            "OPRIT_TELEGRAM_API_URL": api.base_url,
            "OPRIT_DATABASE_URL": database.url,
            "OPRIT_ENCRYPTION_KEY": TEST_KEY,
            "PYTHONPATH": str(BOT_SOURCE),
        }
    )
    env.update(extra)
    return env


def oprit_cli(
    env: dict[str, str], cwd: Path, *args: str, timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run one `oprit` command; returns its result and its wall time in seconds."""
    started = time.perf_counter()
    result = oprit(env, cwd, *args, timeout=timeout)
    return result, time.perf_counter() - started


class BotProcess:
    """A bot (Oprit or the echo bot) running as a child process; stopped with SIGTERM."""

    def __init__(
        self, argv: list[str], env: dict[str, str], cwd: Path, log: Path, profile: Path | None
    ) -> None:
        self.argv, self.env, self.cwd, self.log, self.profile = argv, env, cwd, log, profile
        self.process: subprocess.Popen[bytes] | None = None
        self._spy: subprocess.Popen[bytes] | None = None
        self.peak_rss_mb = 0.0

    def launch(self) -> None:
        """Start the process (a bot, or `oprit web`, which never polls Telegram)."""
        self.cwd.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=log, stderr=log
            )

    def start(self, api: TimedFakeApi, ready_timeout: float = 60) -> None:
        """Start and wait until the bot's first getUpdates arrives."""
        since = time.monotonic()
        self.launch()
        api.wait_until(
            lambda: self._exited() or api.last_poll_started >= since,
            ready_timeout,
            "the bot's first getUpdates",
        )
        if self._exited():
            raise RuntimeError(f"the bot exited at start; see {self.log}")

    @contextlib.contextmanager
    def profiling(self) -> Iterator[None]:
        """Sample the bot with py-spy during a block (the measured part of a scenario)."""
        if self.profile is None or self.process is None:
            yield
            return
        self._spy = start_py_spy(self.process.pid, self.profile)
        try:
            yield
        finally:
            stop_py_spy(self._spy)
            self._spy = None

    def _exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def rss_mb(self) -> float:
        """The peak resident set size so far (VmHWM), in MB."""
        if self.process is None:
            return 0.0
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_mb = max(self.peak_rss_mb, int(line.split()[1]) / 1024)
        return self.peak_rss_mb

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the process used so far."""
        if self.process is None:
            return 0.0
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return 0.0

    def stop(self) -> None:
        """SIGTERM, then kill after a while; py-spy (if any) writes its profile."""
        if self._spy is not None:
            stop_py_spy(self._spy)
            self._spy = None
        if self.process is None:
            return
        self.rss_mb()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextlib.contextmanager
def running(bot: BotProcess, api: TimedFakeApi) -> Iterator[BotProcess]:
    """Run a bot for the duration of a block."""
    try:
        bot.start(api)
        yield bot
    finally:
        bot.stop()


def oprit_process(
    api: TimedFakeApi, database: Database, workdir: Path, profile: Path | None, **extra: str
) -> BotProcess:
    """`python -m bot run` against the fake and the database."""
    env = bot_env(api, database, **extra)
    return BotProcess([*OPRIT, "run"], env, workdir, workdir / "bot.log", profile)


def start_py_spy(pid: int, output: Path) -> subprocess.Popen[bytes] | None:
    """Sample a running process with py-spy until stopped (None when py-spy is missing)."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return None
    output.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(output),
            "--gil",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_py_spy(spy: subprocess.Popen[bytes] | None) -> None:
    """Ask py-spy to stop; it writes the profile on SIGINT."""
    if spy is None:
        return
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(timeout=30)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait()


# --- waiting ---------------------------------------------------------------------------------


async def wait_for(
    check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll an async or sync check until it is truthy; raise TimeoutError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)


def workdir(root: Path, name: str) -> Path:
    """A fresh directory under the run's temporary root."""
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
    return path
