"""Two workers on one database claim 1,000 due rows: every row is taken exactly once."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert, select

from bot.runtime import Runtime
from db import outbox as outbox_db
from db.models import OutboxItem
from db.session import create_engine, session_factory


async def test_two_claimers_take_every_row_once(runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            insert(OutboxItem),
            [
                {
                    "kind": "broadcast",
                    "priority": 60,
                    "method": "sendMessage",
                    "chat_id": 10_000 + number % 300,
                    "payload": {"text": f"bericht {number}"},
                    "status": "pending",
                    "attempts": 0,
                    "due_at": now,
                    "created_at": now,
                }
                for number in range(1000)
            ],
        )

    # both connect before either claims: on a loaded machine one worker could otherwise
    # drain all 1,000 rows while the other is still connecting
    connected = asyncio.Barrier(2)

    async def worker(name: str) -> list[int]:
        engine = create_engine(runtime.settings.database_url)
        sessions = session_factory(engine)
        taken: list[int] = []
        try:
            async with sessions() as session:
                await session.execute(select(1))
            await connected.wait()
            while True:
                async with sessions() as session, session.begin():
                    rows = await outbox_db.claim_due(session, name, now, 37, per_chat=1000)
                if not rows:
                    return taken
                taken += [row.id for row in rows]
                await asyncio.sleep(0)
        finally:
            await engine.dispose()

    first, second = await asyncio.gather(worker("worker-a"), worker("worker-b"))
    assert not set(first) & set(second)
    assert len(first) + len(second) == 1000
    if runtime.engine.dialect.name == "postgresql":
        assert first and second  # both really took part (SQLite serialises writers)
    async with runtime.sessions() as session:
        claimed = (await session.scalars(select(OutboxItem.claimed_by))).all()
    assert len(claimed) == 1000 and set(claimed) <= {"worker-a", "worker-b"}


async def test_dead_workers_rows_are_recovered(runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        for kind in ("alert", "reply", "broadcast"):
            outbox_db.add(
                session,
                kind=kind,
                chat_id=1,
                payload={"text": kind},
                status="sending",
                claimed_by="dead:1",
                claimed_at=now,
                attempt_started_at=now,  # the request had left when the worker died
                due_at=now,
            )
        outbox_db.add(  # claimed, but its request never started: safe to send
            session,
            kind="broadcast",
            chat_id=3,
            payload={"text": "broadcast"},
            status="sending",
            claimed_by="dead:1",
            claimed_at=now,
            due_at=now,
        )
        outbox_db.add(
            session,
            kind="alert",
            chat_id=2,
            payload={"text": "x"},
            status="sending",
            claimed_by="alive:2",
            claimed_at=now,
            due_at=now,
        )
    async with runtime.sessions() as session, session.begin():
        again, dropped = await outbox_db.recover_abandoned(session, ["dead:1"], ("broadcast",))
    assert (again, dropped) == (3, 1)
    async with runtime.sessions() as session:
        rows = {(r.kind, r.chat_id): r.status for r in (await session.scalars(select(OutboxItem)))}
    assert rows == {
        ("alert", 1): "pending",
        ("reply", 1): "pending",
        ("broadcast", 1): "unknown",
        ("broadcast", 3): "pending",
        ("alert", 2): "sending",
    }


async def test_a_chat_gets_one_staff_copy_at_a_time_and_its_alert_first(runtime: Runtime) -> None:
    """Copies of participant messages for an officer are claimed one per chat, so an alert
    for that chat never waits behind a batch of them."""
    now = runtime.clock.now()
    officer = 6_000_001
    rows = [("mirror", 45), ("mirror_edit", 45), ("mirror", 45), ("alert", 5), ("reply", 20)]
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            insert(OutboxItem),
            [
                {
                    "kind": kind,
                    "priority": priority,
                    "chat_id": officer,
                    "payload": {"text": kind},
                    "status": "pending",
                    "attempts": 0,
                    "due_at": now,
                    "created_at": now,
                }
                for kind, priority in rows
            ],
        )
    async with runtime.sessions() as session, session.begin():
        claimed = await outbox_db.claim_due(
            session, "worker", now, 10, per_chat=5, one_per_chat=("mirror", "mirror_edit")
        )
    assert [row.kind for row in claimed] == ["alert", "reply", "mirror"]


async def test_a_broadcast_is_claimed_behind_a_backlog_of_replies(runtime: Runtime) -> None:
    """Broadcast rows are the least urgent: among the most urgent candidates of a busy
    hour there would be none, and a running broadcast would stand still."""
    now = runtime.clock.now()
    rows = [("reply", 20, 20_000 + number) for number in range(600)]
    rows += [("broadcast", 60, 30_000 + number) for number in range(12)]
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            insert(OutboxItem),
            [
                {
                    "kind": kind,
                    "priority": priority,
                    "chat_id": chat,
                    "payload": {"text": kind},
                    "status": "pending",
                    "attempts": 0,
                    "due_at": now,
                    "created_at": now,
                }
                for kind, priority, chat in rows
            ],
        )
    async with runtime.sessions() as session, session.begin():
        claimed = await outbox_db.claim_due(
            session,
            "worker",
            now,
            100,
            per_chat=5,
            max_broadcasts=10,
            max_routine=60,
            routine_priority=20,
        )
    kinds = [row.kind for row in claimed]
    assert kinds.count("broadcast") == 10  # its own share, whatever waits before it
    assert kinds.count("reply") == 60  # replies are not crowded out either
