"""Several updates share a transaction; a failing one costs the others nothing, and an
update that queues an urgent message is committed (and so sent) at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.telegram.parse import chat_and_text
from bot.conversation import outbox
from bot.conversation.events import Address
from bot.conversation.replies import Reply
from bot.engine import inbox
from bot.runtime import Runtime, current_scope
from db import state
from db.enums import Channel
from db.models import InboxUpdate, KeyValue
from tests.clock import ManualClock


def _update(update_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "chat": {"id": 4_000 + update_id}, "text": text},
    }


async def _store(runtime: Runtime, count: int) -> None:
    async with runtime.sessions() as session, session.begin():
        await inbox.store(
            session,
            [_update(n, f"bericht {n}") for n in range(1, count + 1)],
            runtime.clock.now(),
            chat_and_text,
        )


@pytest.fixture(autouse=True)
def groups_end_only_as_the_test_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group also ends after GROUP_SECONDS; on a busy machine that came first and the
    tests saw shorter groups than the rule they check."""
    monkeypatch.setattr(inbox, "GROUP_SECONDS", 60.0)


async def _effects(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        keys = await session.scalars(select(KeyValue.key).where(KeyValue.key.like("effect-%")))
        return sorted(keys.all())


async def _errors(runtime: Runtime) -> dict[int, str | None]:
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(InboxUpdate))).all()
        assert all(row.processed_at is not None for row in rows)
        return {row.update_id: row.error for row in rows}


async def test_one_failing_update_rolls_back_its_group_and_the_rest_is_kept_once(
    runtime: Runtime,
) -> None:
    await _store(runtime, 8)
    calls: list[int] = []
    apologies: list[int] = []

    async def handle(payload: dict[str, Any]) -> None:
        update_id = int(payload["update_id"])
        calls.append(update_id)
        scope = current_scope()
        await state.put(scope.session, f"effect-{update_id}", "1", scope.now)
        if update_id == 5:
            raise RuntimeError("a bug in one handler")

    async def handle_failure(payload: dict[str, Any], error: BaseException) -> None:
        apologies.append(int(payload["update_id"]))

    processor = inbox.InboxProcessor(runtime, handle, handle_failure)
    assert await processor.process_pending() == 8
    assert calls[:5] == [1, 2, 3, 4, 5]  # the group, rolled back at 5
    assert calls[5:] == [1, 2, 3, 4, 5, 6, 7, 8]  # then one transaction each
    assert apologies == [5]
    assert await _effects(runtime) == sorted(f"effect-{n}" for n in (1, 2, 3, 4, 6, 7, 8))
    errors = await _errors(runtime)
    assert errors[5] == "RuntimeError"
    assert all(errors[n] is None for n in (1, 2, 3, 4, 6, 7, 8))
    assert await processor.process_pending() == 0  # nothing is processed twice


async def test_an_update_that_queues_an_urgent_message_ends_the_group(runtime: Runtime) -> None:
    await _store(runtime, 6)

    async def handle(payload: dict[str, Any]) -> None:
        scope = current_scope()
        update_id = int(payload["update_id"])
        priority = outbox.PRIORITY_SAFETY if update_id == 2 else outbox.PRIORITY_REPLY
        to = Address(Channel.TELEGRAM, 4_000 + update_id)
        outbox.to_address(scope.session, to, [Reply("ok")], now=scope.now, priority=priority)

    async def handle_failure(payload: dict[str, Any], error: BaseException) -> None:
        raise AssertionError(error)

    processor = inbox.InboxProcessor(runtime, handle, handle_failure)
    woken: list[bool] = []
    runtime.outbox_wakeup.clear()
    first = await processor._process_group([1, 2, 3, 4, 5, 6])
    woken.append(runtime.outbox_wakeup.is_set())
    assert first == (2, 2)  # committed right after the safety answer was queued
    assert woken == [True]
    assert await processor.process_pending() == 4
    errors = await _errors(runtime)
    assert sorted(errors) == [1, 2, 3, 4, 5, 6]


async def test_an_update_id_reused_after_telegram_restarted_its_counter_is_new(
    runtime: Runtime,
) -> None:
    """Telegram starts update ids anew after a week without updates: an old processed
    marker must not make a new message look like a duplicate."""
    await _store(runtime, 1)
    handled: list[str] = []

    async def handle(payload: dict[str, Any]) -> None:
        handled.append(payload["message"]["text"])

    async def handle_failure(payload: dict[str, Any], error: BaseException) -> None:
        raise AssertionError("no update fails here")

    processor = inbox.InboxProcessor(runtime, handle, handle_failure)
    await processor.process_pending()
    async with runtime.sessions() as session, session.begin():  # a redelivery: ignored
        assert await inbox.store(
            session, [_update(1, "bericht 1")], runtime.clock.now(), chat_and_text
        ) == (
            0,
            False,
        )
    await processor.process_pending()
    assert handled == ["bericht 1"]
    assert isinstance(runtime.clock, ManualClock)
    runtime.clock.advance(timedelta(days=8))
    async with runtime.sessions() as session, session.begin():
        new, _urgent = await inbox.store(
            session, [_update(1, "een week later")], runtime.clock.now(), chat_and_text
        )
    assert new == 1
    await processor.process_pending()
    assert handled == ["bericht 1", "een week later"]
