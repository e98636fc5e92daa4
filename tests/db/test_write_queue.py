"""SQLite writers of one process take turns, most urgent first; readers never wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from db import write_queue
from db.errors import DatabaseTrouble, classify
from db.session import create_engine, session_factory
from db.write_queue import WritePriority, WriteQueue, writing_as


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE log (who TEXT)"))
    yield engine
    await engine.dispose()


async def _write(engine: AsyncEngine, who: str, priority: WritePriority) -> None:
    with writing_as(priority):
        async with session_factory(engine)() as session, session.begin():
            await session.execute(text("INSERT INTO log VALUES (:who)"), {"who": who})


async def _order(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.scalars(text("SELECT who FROM log ORDER BY rowid"))).all())


async def _until_waiting(queue: WriteQueue, count: int) -> None:
    for _ in range(200):
        if queue.waiting >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} writers never queued")


def _queue(engine: AsyncEngine) -> WriteQueue:
    queue = write_queue.queue_of(engine.sync_engine)
    assert queue is not None
    return queue


async def test_a_crisis_write_goes_before_routine_writes_that_queued_first(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    async with sessions() as holder, holder.begin():
        await holder.execute(text("INSERT INTO log VALUES ('holder')"))
        routine = []
        for n in range(3):  # one at a time: the line is in order of arrival
            routine.append(
                asyncio.create_task(_write(engine, f"routine {n}", WritePriority.ROUTINE))
            )
            await _until_waiting(_queue(engine), n + 1)
        delivery = asyncio.create_task(_write(engine, "delivery", WritePriority.DELIVERY))
        await _until_waiting(_queue(engine), 4)
        crisis = asyncio.create_task(_write(engine, "crisis", WritePriority.CRISIS))
        await _until_waiting(_queue(engine), 5)
    await asyncio.gather(*routine, delivery, crisis)
    assert await _order(engine) == [
        "holder",
        "crisis",
        "delivery",
        "routine 0",
        "routine 1",
        "routine 2",
    ]


async def test_readers_do_not_wait_for_a_writer(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as writer, writer.begin():
        await writer.execute(text("INSERT INTO log VALUES ('open')"))
        async with sessions() as reader:
            seen = await asyncio.wait_for(
                reader.scalar(text("SELECT count(*) FROM log")), timeout=5
            )
    assert seen == 0  # the writer's row is not committed yet; the read did not wait


async def test_a_rolled_back_writer_passes_the_turn_on(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    with pytest.raises(RuntimeError):
        async with sessions() as failing, failing.begin():
            await failing.execute(text("INSERT INTO log VALUES ('rolled back')"))
            raise RuntimeError("a bug half-way")
    assert _queue(engine).holder is None
    await asyncio.wait_for(_write(engine, "next", WritePriority.ROUTINE), timeout=5)
    assert await _order(engine) == ["next"]


async def test_a_writer_that_waits_too_long_fails_as_a_locked_database(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within one task, a second connection writing while the first still holds the turn
    can never get it: it fails like SQLite's busy timeout, never hangs."""
    monkeypatch.setattr(write_queue, "WAIT_AT_MOST_SECONDS", 0.2)
    sessions = session_factory(engine)
    async with sessions() as holder, holder.begin():
        await holder.execute(text("INSERT INTO log VALUES ('holder')"))
        with pytest.raises(OperationalError) as raised:
            await _write(engine, "stuck", WritePriority.CRISIS)
    assert classify(raised.value) is DatabaseTrouble.CONFLICT
    assert _queue(engine).holder is None
    await _write(engine, "after", WritePriority.ROUTINE)
    assert await _order(engine) == ["holder", "after"]


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    queue = WriteQueue()
    first, cancelled, last = object(), object(), object()
    await queue.acquire(first, WritePriority.ROUTINE)
    waiting = asyncio.create_task(queue.acquire(cancelled, WritePriority.CRISIS))
    after = asyncio.create_task(queue.acquire(last, WritePriority.ROUTINE))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.sleep(0.01)
    queue.release(first)
    await asyncio.wait_for(after, timeout=5)
    assert queue.holder is last
    queue.release(last)
    assert queue.holder is None


async def test_a_release_by_another_connection_changes_nothing() -> None:
    queue = WriteQueue()
    holder, stranger = object(), object()
    await queue.acquire(holder, WritePriority.ROUTINE)
    queue.release(stranger)
    assert queue.holder is holder
