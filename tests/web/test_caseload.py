"""The caseload's filters, sorting, search and numbers, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.services import dashboard
from db import people
from db.models import Staff
from tests.clock import ManualClock
from tests.harness import Harness, running_harness

CRISIS = "ik wil dood, ik kan niet meer"


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        yield running


async def _page(h: Harness, telegram_id: int, **asked: object) -> dashboard.CaseloadPage:
    async with h.runtime.sessions() as session, session.begin():
        staff = await people.staff_by_telegram_id(session, telegram_id)
        assert isinstance(staff, Staff)
        return await dashboard.caseload(h.runtime.tx(session), staff, **asked)  # type: ignore[arg-type]


async def test_filters_sorting_and_numbers(h: Harness) -> None:
    olga, cora = h.user(first_name="Olga"), h.user(first_name="Cora")
    await h.add_staff(olga, name="Olga")
    await h.add_staff(cora, name="Cora", role="coordinator")
    piet = h.user(first_name="Piet")
    await h.add_staff(piet, name="Piet")
    names = {"Anna Quiet": "en", "Bram Crisis": "nl", "Cem Paused": "tr", "Dirk 100%_x": "nl"}
    users = {}
    for name, language in names.items():
        users[name] = h.user(first_name=name.split()[0])
        await h.register(
            users[name], name=name, officer_telegram_id=olga.chat_id,
            language={"en": "English", "nl": "Nederlands", "tr": "Türkçe"}[language],
        )  # fmt: skip
    other = h.user(first_name="Eva")
    await h.register(other, name="Eva Elders", officer_telegram_id=piet.chat_id)
    users["Bram Crisis"].send("hallo")
    await h.pump()
    await h.advance(timedelta(minutes=5))
    users["Bram Crisis"].send(CRISIS)
    await h.pump()
    mine = await _page(h, olga.chat_id)
    assert mine.rows[0].name == "Bram Crisis"  # the critical alert first
    assert "Eva Elders" not in [row.name for row in mine.rows] and mine.total == 4
    bram = next(row for row in mine.rows if row.name == "Bram Crisis")
    assert bram.open_alerts == 1 and bram.worst_severity == "critical"
    assert bram.unread == 2 and bram.last_contact_at is not None
    everyone = await _page(h, cora.chat_id)
    assert everyone.total == 5
    by_name = await _page(h, olga.chat_id, sort="name")
    assert [row.name for row in by_name.rows] == sorted(names)
    backwards = await _page(h, olga.chat_id, sort="name", descending=True)
    assert [row.name for row in backwards.rows] == sorted(names, reverse=True)
    attention = await _page(h, olga.chat_id, show="attention")
    assert [row.name for row in attention.rows] == ["Bram Crisis"]
    assert [r.name for r in (await _page(h, olga.chat_id, language="nl")).rows] == [
        "Bram Crisis",
        "Dirk 100%_x",
    ]
    assert [r.name for r in (await _page(h, olga.chat_id, search="100%_")).rows] == ["Dirk 100%_x"]
    assert (await _page(h, olga.chat_id, search="%")).total == 1  # a literal %, not a wildcard
    assert (await _page(h, olga.chat_id, search="bram")).total == 1  # any case
    for sort in ("contact", "checkin", "appointment", "unread", "nonsense"):
        assert (await _page(h, olga.chat_id, sort=sort)).total == 4
    assert (await _page(h, olga.chat_id, page=5)).rows == []
