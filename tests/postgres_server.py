"""A throwaway PostgreSQL server for the test suite.

The database-facing tests must run against a real PostgreSQL (SQLite hides
locking, ``FOR UPDATE SKIP LOCKED`` and type differences), but CI and dev
machines have no shared server.  ``ThrowawayPostgres`` runs ``initdb`` +
``pg_ctl`` from the locally installed binaries into a private temp dir, on a
free port bound to 127.0.0.1 only, with durability switched off for speed,
and removes everything again on ``stop()`` (or at interpreter exit).

``initdb`` refuses to run as root, and the tests run as root in CI, so when
euid is 0 the server binaries run as the ``postgres`` system user.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import NoReturn

import pytest

__all__ = [
    "PostgresUnavailable",
    "ThrowawayPostgres",
    "find_postgres_bin_dir",
    "postgres_required",
    "server_or_skip",
    "skip_or_fail",
]

#: Where Debian/Ubuntu install the server binaries (not on PATH by default).
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
#: Executables that must all live in one bin dir for it to be usable.
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
#: Superuser created by initdb; fixed so URLs do not depend on the OS user.
SUPERUSER = "postgres"
#: OS account used to run the server when the tests run as root.
SYSTEM_USER = "postgres"
HOST = "127.0.0.1"
#: Environment variable CI sets so that a missing server fails instead of skips.
REQUIRE_ENV = "OPRIT_REQUIRE_POSTGRES"

_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_LOG_TAIL_LINES = 20
_START_ATTEMPTS = 3
_SBIN_FALLBACKS = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")


class PostgresUnavailable(Exception):
    """The throwaway server could not be provided; tests should skip (or fail in CI).

    ``reason`` is always a single human-readable line; ``details`` (e.g. the
    tail of the server log) is appended to ``str(exc)`` when present so a CI
    failure carries enough context to debug without re-running.
    """

    def __init__(self, reason: str, details: str = "") -> None:
        self.reason = " ".join(reason.split())
        self.details = details.strip()
        super().__init__(self.reason)

    def __str__(self) -> str:
        if not self.details:
            return self.reason
        return f"{self.reason}\n{self.details}"


def postgres_required() -> bool:
    """True when CI demands a real server (``OPRIT_REQUIRE_POSTGRES=1``)."""
    return os.environ.get(REQUIRE_ENV, "").strip() == "1"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip locally but fail in CI, so a broken CI image cannot silently skip DB tests."""
    if postgres_required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def server_or_skip() -> Iterator[ThrowawayPostgres]:
    """A running throwaway server for a fixture; the test skips (fails in CI) without one."""
    server = ThrowawayPostgres()
    try:
        server.start()
    except PostgresUnavailable as error:
        skip_or_fail(f"PostgreSQL tests skipped: {error.reason}")
    try:
        yield server
    finally:
        server.stop()


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _has_required_binaries(bin_dir: Path) -> bool:
    return all(_is_executable(bin_dir / name) for name in REQUIRED_BINARIES)


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    """Numeric sort key for ``/usr/lib/postgresql/<version>/bin`` ("9.6" < "15")."""
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name))


def find_postgres_bin_dir() -> Path | None:
    """Locate a directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    PATH wins (symlinks are resolved so that sibling tools such as ``psql``
    come from the same installation); otherwise the highest version under
    ``/usr/lib/postgresql/*/bin`` is used, because Debian keeps the server
    binaries off PATH.
    """
    search_path = os.environ.get("PATH", "")
    initdb = shutil.which("initdb", path=search_path) if search_path else None
    if initdb is not None:
        found = Path(initdb)
        for candidate in (found.resolve().parent, found.parent):
            if _has_required_binaries(candidate):
                return candidate
    installed = [
        Path(match)
        for match in Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/"))
        if _has_required_binaries(Path(match))
    ]
    if not installed:
        return None
    return max(installed, key=_version_key)


def _which_any(name: str) -> str | None:
    """``shutil.which`` that still works when PATH was emptied or trimmed."""
    found = shutil.which(name)
    if found is not None:
        return found
    for directory in _SBIN_FALLBACKS:
        candidate = Path(directory) / name
        if _is_executable(candidate):
            return str(candidate)
    return None


def _build_command(
    argv: list[str], *, as_root: bool, runuser: str | None, su: str | None
) -> list[str]:
    """Wrap ``argv`` so it runs as the postgres system user when we are root."""
    if not as_root:
        return argv
    if runuser is not None:
        return [runuser, "-u", SYSTEM_USER, "--", *argv]
    if su is not None:
        return [su, SYSTEM_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]
    raise PostgresUnavailable(
        "running as root but neither runuser nor su is available to run initdb as "
        f"the '{SYSTEM_USER}' user"
    )


def _clean_env() -> dict[str, str]:
    """Environment without PG* variables, which would redirect initdb/psql elsewhere."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _free_port() -> int:
    """Ask the kernel for an unused TCP port on 127.0.0.1 (racy, hence retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _traversable_by(path: Path, uid: int) -> bool:
    """Whether ``uid`` can walk through every ancestor of ``path`` (root's checks lie)."""
    for directory in (path, *path.parents):
        try:
            info = directory.stat()
        except OSError:
            return False
        if info.st_uid == uid:
            if not info.st_mode & stat.S_IXUSR:
                return False
        elif not info.st_mode & stat.S_IXOTH:
            return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ThrowawayPostgres:
    """A private PostgreSQL cluster living in a temp dir for the lifetime of a test run.

    Usage::

        with ThrowawayPostgres() as pg:
            url = pg.create_database()  # postgresql+asyncpg://postgres@127.0.0.1:PORT/NAME
    """

    def __init__(self) -> None:
        self._bin_dir: Path | None = None
        self._root: Path | None = None
        self._port: int | None = None
        self._owner_pid: int | None = None
        self._as_root = False
        self._runuser: str | None = None
        self._su: str | None = None
        self._psql: Path | None = None

    # -- properties -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between a successful ``start()`` and ``stop()``."""
        return self._port is not None

    @property
    def host(self) -> str:
        """Address the server listens on (TCP only on loopback)."""
        return HOST

    @property
    def port(self) -> int:
        """TCP port picked at start-up."""
        if self._port is None:
            raise RuntimeError("ThrowawayPostgres is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """Async SQLAlchemy URL of the maintenance database ``postgres``."""
        return self.url_for("postgres")

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory (inside the private temp dir)."""
        if self._root is None:
            raise RuntimeError("ThrowawayPostgres is not running; call start() first")
        return self._root / "data"

    def url_for(self, name: str) -> str:
        """Async SQLAlchemy URL of database ``name`` on this server."""
        return f"postgresql+asyncpg://{SUPERUSER}@{self.host}:{self.port}/{name}"

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        """initdb a fresh cluster and start it; raise ``PostgresUnavailable`` on any failure."""
        if self.running:
            return
        bin_dir = find_postgres_bin_dir()
        if bin_dir is None:
            raise PostgresUnavailable(
                f"PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in {DEBIAN_BIN_GLOB}"
            )
        self._bin_dir = bin_dir
        psql = bin_dir / "psql"
        self._psql = psql if _is_executable(psql) else None
        self._as_root = os.geteuid() == 0
        self._runuser = _which_any("runuser")
        self._su = _which_any("su")
        self._root = self._make_root()
        self._owner_pid = os.getpid()
        atexit.register(self.stop)
        try:
            self._initdb()
            self._start_server()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Kill the server immediately and delete its files; safe to call repeatedly.

        Immediate mode is fine because the data is disposable, and it keeps
        teardown (and atexit after a crashed run) fast.
        """
        root = self._root
        if root is None:
            return
        if self._owner_pid != os.getpid():
            # A forked child inherited this object: the server belongs to the parent.
            return
        data_dir = root / "data"
        if (data_dir / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable, OSError):
                self._run(
                    [str(self._binary("pg_ctl")), "stop", "-D", str(data_dir), "-m", "immediate"],
                    timeout=30,
                )
            self._kill_leftover_postmaster(data_dir)
        shutil.rmtree(root, ignore_errors=True)
        self._root = None
        self._port = None
        self._owner_pid = None
        atexit.unregister(self.stop)

    def pause(self) -> None:
        """Stop the server, keeping its data and port (a restart of the database under a
        running bot); connections are cut as in a real restart."""
        assert self._root is not None
        self._run(
            [str(self._binary("pg_ctl")), "stop", "-D", str(self.data_dir), "-m", "fast", "-w"],
            timeout=60,
        )

    def resume(self) -> None:
        """Start a paused server again on the same port."""
        self._start_server(port=self.port)

    def __enter__(self) -> ThrowawayPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases --------------------------------------------------------------------

    def create_database(self, name: str | None = None) -> str:
        """Create a database (uniquely named when ``name`` is None) and return its URL."""
        if name is None:
            name = f"oprit_test_{uuid.uuid4().hex[:12]}"
        self._check_name(name)
        self._execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, terminating any connections a test forgot to close."""
        self._check_name(name)
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # -- internals --------------------------------------------------------------------

    @staticmethod
    def _check_name(name: str) -> None:
        """Only plain identifiers: keeps SQL quoting and the URL trivially correct."""
        if not _DB_NAME_RE.fullmatch(name):
            raise ValueError(f"invalid database name {name!r}: use [A-Za-z_][A-Za-z0-9_]*")

    def _binary(self, name: str) -> Path:
        assert self._bin_dir is not None
        return self._bin_dir / name

    def _make_root(self) -> Path:
        """Private temp dir, owned by the postgres user when we are root."""
        if not self._as_root:
            return Path(tempfile.mkdtemp(prefix="oprit-pg-"))
        try:
            account = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root and there is no '{SYSTEM_USER}' system user to run initdb as"
            ) from None
        # Fails fast (before creating anything) when no way to switch user exists.
        _build_command(["true"], as_root=True, runuser=self._runuser, su=self._su)
        parent = Path(tempfile.gettempdir())
        if not _traversable_by(parent, account.pw_uid):
            parent = Path("/tmp")  # world-traversable fallback; the dir itself stays 0700
        root = Path(tempfile.mkdtemp(prefix="oprit-pg-", dir=parent))
        os.chmod(root, 0o700)
        os.chown(root, account.pw_uid, account.pw_gid)
        return root

    def _run(
        self, argv: list[str], *, timeout: float, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a server binary (as the postgres user when root) with a clean environment."""
        assert self._root is not None
        command = _build_command(argv, as_root=self._as_root, runuser=self._runuser, su=self._su)
        try:
            result = subprocess.run(
                command,
                cwd=self._root,  # the postgres user may not be able to enter our cwd
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PostgresUnavailable(
                f"{Path(argv[0]).name} timed out after {timeout:.0f}s", self._log_tail()
            ) from None
        if check and result.returncode != 0:
            output = (result.stderr or result.stdout).strip()
            first = output.splitlines()[0] if output else f"exit status {result.returncode}"
            raise PostgresUnavailable(
                f"{Path(argv[0]).name} failed: {first}", f"{output}\n{self._log_tail()}"
            )
        return result

    def _initdb(self) -> None:
        self._run(
            [
                str(self._binary("initdb")),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=trust",
                "--no-sync",
            ],
            timeout=120,
        )

    def _start_server(self, port: int | None = None) -> None:
        """pg_ctl start on a free port (or the given one), retrying when another process
        grabbed the port."""
        assert self._root is not None
        socket_dir = self._root
        log_file = self._root / "server.log"
        fixed = port
        for attempt in range(1, _START_ATTEMPTS + 1):
            port = fixed or _free_port()
            options = " ".join(
                [
                    "-F",
                    f"-p {port}",
                    f"-k {shlex.quote(str(socket_dir))}",
                    f"-c listen_addresses={HOST}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                ]
            )
            argv = [
                str(self._binary("pg_ctl")),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(log_file),
                "-o",
                options,
            ]
            try:
                self._run(argv, timeout=90)
            except PostgresUnavailable as exc:
                tail = self._log_tail()
                port_taken = "could not bind" in tail or "already in use" in tail
                if port_taken and attempt < _START_ATTEMPTS:
                    continue
                fatal = [line for line in tail.splitlines() if "FATAL:" in line or "PANIC:" in line]
                why = fatal[-1].split(":  ", 1)[-1].strip() if fatal else exc.reason
                raise PostgresUnavailable(
                    f"PostgreSQL server did not start: {why}", exc.details
                ) from None
            self._port = port
            return

    def _log_tail(self) -> str:
        if self._root is None:
            return ""
        try:
            lines = (self._root / "server.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        if not lines:
            return ""
        return "server log tail:\n" + "\n".join(lines[-_LOG_TAIL_LINES:])

    def _kill_leftover_postmaster(self, data_dir: Path) -> None:
        """Last resort when pg_ctl could not stop the server (e.g. it is wedged)."""
        try:
            pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        if not _pid_alive(pid):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if not _pid_alive(pid):
                    return
                time.sleep(0.05)

    def _execute(self, sql: str) -> None:
        """Run one statement outside a transaction on the maintenance database.

        Uses ``psql`` (a subprocess cannot clash with the caller's event loop);
        without psql, asyncpg runs in a short-lived thread with its own loop.
        """
        if self._psql is not None:
            self._execute_psql(sql)
        else:
            self._execute_asyncpg(sql)

    def _execute_psql(self, sql: str) -> None:
        assert self._psql is not None
        command = [
            str(self._psql),
            "-X",
            "-q",
            "-w",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-c",
            sql,
        ]
        result = subprocess.run(
            command,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{sql!r} failed: {result.stderr.strip()}")

    def _execute_asyncpg(self, sql: str) -> None:
        # import_module: asyncpg ships no type information; keeps plain `mypy` clean too.
        asyncpg = importlib.import_module("asyncpg")

        async def run() -> None:
            conn = await asyncpg.connect(
                host=self.host, port=self.port, user=SUPERUSER, database="postgres", timeout=30
            )
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        errors: list[BaseException] = []

        def target() -> None:
            try:
                asyncio.run(run())
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=target, name="throwaway-postgres-sql", daemon=True)
        thread.start()
        thread.join(timeout=60)
        if thread.is_alive():
            raise RuntimeError(f"{sql!r} timed out")
        if errors:
            raise RuntimeError(f"{sql!r} failed: {errors[0]}") from errors[0]
