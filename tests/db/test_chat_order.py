"""Two workers on one PostgreSQL never handle two updates of one chat at once, and never an
update while an earlier one of its chat waits: flow state is never overwritten out of order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import open_runtime
from bot.channels.telegram.parse import chat_and_text
from bot.engine import inbox
from bot.runtime import Runtime
from tests.clock import ManualClock
from tests.conftest import make_settings
from tests.postgres_server import ThrowawayPostgres

CHAT_X, CHAT_Y = 4_100, 4_200


@pytest.fixture
async def postgres_runtime(
    postgres_server: ThrowawayPostgres, clock: ManualClock
) -> AsyncIterator[Runtime]:
    url = postgres_server.create_database()
    runtime = await open_runtime(make_settings(database_url=url), clock)
    try:
        yield runtime
    finally:
        await runtime.engine.dispose()
        postgres_server.drop_database(url.rsplit("/", 1)[1])


def _update(update_id: int, chat_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "chat": {"id": chat_id}, "text": f"nr {update_id}"},
    }


async def test_a_chats_updates_go_in_order_across_workers(postgres_runtime: Runtime) -> None:
    runtime = postgres_runtime
    async with runtime.sessions() as session, session.begin():
        await inbox.store(
            session,
            [_update(1, CHAT_X), _update(2, CHAT_X), _update(3, CHAT_Y)],
            runtime.clock.now(),
            chat_and_text,
        )
    order: list[tuple[str, int]] = []
    first_is_inside = asyncio.Event()
    let_first_finish = asyncio.Event()

    def handler(worker: str) -> Any:
        async def handle(payload: dict[str, Any]) -> None:
            update_id = int(payload["update_id"])
            order.append((worker, update_id))
            if update_id == 1:
                first_is_inside.set()
                await let_first_finish.wait()  # worker A is slow on chat X's first update

        return handle

    async def never_fails(payload: dict[str, Any], error: BaseException) -> None:
        raise AssertionError(f"update {payload.get('update_id')} failed: {error!r}")

    worker_a = inbox.InboxProcessor(runtime, handler("A"), never_fails)
    worker_b = inbox.InboxProcessor(runtime, handler("B"), never_fails)
    slow = asyncio.create_task(worker_a._process(1))
    await first_is_inside.wait()
    await worker_b.process_pending()  # meanwhile: chat Y goes, chat X's second must wait
    assert order == [("A", 1), ("B", 3)]
    let_first_finish.set()
    assert await slow
    await worker_b.process_pending()
    assert order == [("A", 1), ("B", 3), ("B", 2)]


async def test_a_chat_taken_by_another_worker_is_skipped(postgres_runtime: Runtime) -> None:
    """The advisory lock: while one worker's transaction holds chat X, another skips it."""
    from db import inbox as inbox_db

    runtime = postgres_runtime
    updates = [_update(5, CHAT_X), _update(6, CHAT_Y), _update(7, CHAT_X)]
    async with runtime.sessions() as session, session.begin():
        await inbox.store(session, updates, runtime.clock.now(), chat_and_text)
    async with runtime.sessions() as holder, holder.begin():
        # The holder asked for chat X's later update: it must wait for 5 itself, but its
        # transaction now holds chat X.
        assert await inbox_db.lock_updates(holder, [7]) == []
        async with runtime.sessions() as other, other.begin():
            taken = await inbox_db.lock_updates(other, [5, 6])
        assert [row.update_id for row in taken] == [6]
    async with runtime.sessions() as later, later.begin():
        taken = await inbox_db.lock_updates(later, [5, 6, 7])
    assert [row.update_id for row in taken] == [5, 6, 7]
