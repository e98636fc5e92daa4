"""Tests for the throwaway PostgreSQL server used by the database-facing tests.

They prove the harness itself works (a real server, real asyncpg connections,
row locking semantics) and that it cleans up after itself, so a failure in
the DB tests points at the code under test rather than at the harness.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests import postgres_server
from tests.postgres_server import (
    PostgresUnavailable,
    ThrowawayPostgres,
    find_postgres_bin_dir,
    postgres_required,
    skip_or_fail,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def _start_or_skip() -> ThrowawayPostgres:
    server = ThrowawayPostgres()
    try:
        server.start()
    except PostgresUnavailable as exc:
        skip_or_fail(str(exc))
    return server


@pytest.fixture(scope="module")
def pg() -> Iterator[ThrowawayPostgres]:
    """One server for the module: startup is the expensive part."""
    server = _start_or_skip()
    try:
        yield server
    finally:
        server.stop()


def _db_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    """True for a live process; a zombie awaiting its reaper counts as gone."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return status.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_until_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.05)
    return not _pid_alive(pid)


# -- a running server ---------------------------------------------------------------


async def test_two_databases_answer_select_version(pg: ThrowawayPostgres) -> None:
    urls = [pg.create_database(), pg.create_database()]
    assert len(set(urls)) == 2
    for url in urls:
        assert url.startswith(f"postgresql+asyncpg://postgres@127.0.0.1:{pg.port}/")
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                version = (await conn.execute(text("select version()"))).scalar_one()
                current = (await conn.execute(text("select current_database()"))).scalar_one()
        finally:
            await engine.dispose()
        assert "PostgreSQL" in version
        assert current == _db_name(url)
    for url in urls:
        pg.drop_database(_db_name(url))


async def test_named_database_and_drop(pg: ThrowawayPostgres) -> None:
    url = pg.create_database("oprit_named_db")
    assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{pg.port}/oprit_named_db"
    engine = create_async_engine(url)
    try:
        # An open pooled connection must not block the drop (WITH (FORCE)).
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
        pg.drop_database("oprit_named_db")
    finally:
        await engine.dispose()

    admin = create_async_engine(pg.url)
    try:
        async with admin.connect() as conn:
            names = (await conn.execute(text("select datname from pg_database"))).scalars()
            assert "oprit_named_db" not in set(names)
    finally:
        await admin.dispose()
    pg.drop_database("oprit_named_db")  # IF EXISTS: dropping twice is harmless


async def test_table_insert_and_skip_locked(pg: ThrowawayPostgres) -> None:
    url = pg.create_database()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("create table jobs (id serial primary key, payload text not null)")
            )
            await conn.execute(
                text("insert into jobs (payload) values (:p)"),
                [{"p": "a"}, {"p": "b"}, {"p": "c"}],
            )
        claim = text("select id from jobs order by id limit 1 for update skip locked")
        async with engine.connect() as first, engine.connect() as second:
            await first.begin()
            await second.begin()
            first_id = (await first.execute(claim)).scalar_one()
            second_id = (await second.execute(claim)).scalar_one()
            assert (first_id, second_id) == (1, 2)
            await first.rollback()
            await second.rollback()
        async with engine.connect() as conn:
            count = (await conn.execute(text("select count(*) from jobs"))).scalar_one()
        assert count == 3
    finally:
        await engine.dispose()
        pg.drop_database(_db_name(url))


async def test_create_database_inside_running_loop_without_psql(
    pg: ThrowawayPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The asyncpg fallback must not trip over the test's own running event loop."""
    assert asyncio.get_running_loop().is_running()
    monkeypatch.setattr(pg, "_psql", None)
    url = pg.create_database()
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("select 1"))).scalar_one() == 1
    finally:
        await engine.dispose()
    pg.drop_database(_db_name(url))


def test_invalid_database_name_is_rejected(pg: ThrowawayPostgres) -> None:
    with pytest.raises(ValueError, match="invalid database name"):
        pg.create_database('bad"; drop database postgres; --')


def test_server_listens_only_on_loopback(pg: ThrowawayPostgres) -> None:
    assert pg.host == "127.0.0.1"
    assert _port_open(pg.port)
    assert pg.url == f"postgresql+asyncpg://postgres@127.0.0.1:{pg.port}/postgres"


# -- lifecycle ----------------------------------------------------------------------


def test_stop_is_idempotent_and_cleans_up() -> None:
    server = ThrowawayPostgres()
    server.stop()  # never started: a no-op
    with server:
        port = server.port
        root = server.data_dir.parent
        pid = int((server.data_dir / "postmaster.pid").read_text().splitlines()[0])
        assert _port_open(port)
    assert not server.running
    assert not root.exists()
    assert _wait_until_gone(pid)
    assert not _port_open(port)
    server.stop()
    server.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.port


def test_atexit_stops_server_left_running_by_crashed_run() -> None:
    """A run that dies with an exception (no stop()) must not leave a server behind."""
    if find_postgres_bin_dir() is None:
        skip_or_fail("PostgreSQL binaries not found")
    script = textwrap.dedent(
        """
        import sys
        from tests.postgres_server import PostgresUnavailable, ThrowawayPostgres

        server = ThrowawayPostgres()
        try:
            server.start()
        except PostgresUnavailable as exc:
            print("UNAVAILABLE", exc.reason, flush=True)
            sys.exit(3)
        pid = (server.data_dir / "postmaster.pid").read_text().splitlines()[0]
        print(pid, server.port, server.data_dir.parent, flush=True)
        raise RuntimeError("simulated crash without stop()")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode == 3:
        skip_or_fail(result.stdout.strip())
    assert result.returncode == 1, result.stderr
    assert "simulated crash" in result.stderr
    pid_text, port_text, root_text = result.stdout.split()
    assert _wait_until_gone(int(pid_text))
    assert not _port_open(int(port_text))
    assert not Path(root_text).exists()


# -- discovery and unavailability ---------------------------------------------------


def test_find_bin_dir_with_empty_path(monkeypatch: pytest.MonkeyPatch) -> None:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("no Debian-style PostgreSQL install under /usr/lib/postgresql")
    monkeypatch.setenv("PATH", "")
    found = find_postgres_bin_dir()
    assert found is not None
    assert found.parent.parent == Path("/usr/lib/postgresql")
    assert (found / "initdb").is_file()
    assert (found / "pg_ctl").is_file()


def test_find_bin_dir_picks_highest_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Versions compare numerically: 16 beats 9.6 even though "9.6" > "16" as text."""
    for version in ("9.6", "15", "16", "17"):
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        names = ["initdb", "pg_ctl"] if version == "17" else ["initdb", "pg_ctl", "postgres"]
        for name in names:  # 17 is incomplete (no postgres) and must be ignored
            exe = bin_dir / name
            exe.write_text("#!/bin/sh\n")
            exe.chmod(0o755)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(postgres_server, "DEBIAN_BIN_GLOB", f"{tmp_path}/*/bin")
    assert find_postgres_bin_dir() == tmp_path / "16" / "bin"


def test_find_bin_dir_prefers_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("initdb", "pg_ctl", "postgres"):
        exe = tmp_path / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_postgres_bin_dir() == tmp_path


def test_start_without_binaries_raises_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_server, "find_postgres_bin_dir", lambda: None)
    server = ThrowawayPostgres()
    with pytest.raises(PostgresUnavailable) as excinfo:
        server.start()
    message = str(excinfo.value)
    assert "\n" not in message
    assert message == excinfo.value.reason
    assert "not found" in message
    assert "initdb" in message
    assert not server.running
    server.stop()


def test_unavailable_keeps_reason_on_one_line() -> None:
    exc = PostgresUnavailable("pg_ctl failed:\n  boom", "server log tail:\nFATAL: x")
    assert exc.reason == "pg_ctl failed: boom"
    assert str(exc) == "pg_ctl failed: boom\nserver log tail:\nFATAL: x"


def test_su_fallback_when_runuser_missing() -> None:
    build = postgres_server._build_command
    assert build(["initdb", "-D", "/x y"], as_root=False, runuser=None, su=None) == [
        "initdb",
        "-D",
        "/x y",
    ]
    assert build(["initdb"], as_root=True, runuser="/sbin/runuser", su="/bin/su") == [
        "/sbin/runuser",
        "-u",
        "postgres",
        "--",
        "initdb",
    ]
    assert build(["initdb", "-D", "/x y"], as_root=True, runuser=None, su="/bin/su") == [
        "/bin/su",
        "postgres",
        "-s",
        "/bin/sh",
        "-c",
        "initdb -D '/x y'",
    ]
    with pytest.raises(PostgresUnavailable, match="neither runuser nor su"):
        build(["initdb"], as_root=True, runuser=None, su=None)


# -- skip or fail -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("0", False), ("", False), ("yes", False)]
)
def test_postgres_required(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("OPRIT_REQUIRE_POSTGRES", value)
    assert postgres_required() is expected


def test_postgres_not_required_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPRIT_REQUIRE_POSTGRES", raising=False)
    assert postgres_required() is False


def test_skip_or_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPRIT_REQUIRE_POSTGRES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no server"):
        skip_or_fail("no server")
    monkeypatch.setenv("OPRIT_REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match="no server"):
        skip_or_fail("no server")
