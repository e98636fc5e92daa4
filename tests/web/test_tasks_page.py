"""Tasks due across a caseload, in the chat (/tasks), on the dashboard's Tasks page and
with `oprit plan due`: late and soon-due tasks and referrals waiting on a partner, an
officer only their own participants', a coordinator everyone's; the page is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import due, partners, plan, referrals
from db.models import AuditEntry
from tests.browser import assert_not_blank, screenshot_dir
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness
from tests.web.dashboard import browser, log_in, login_path, served
from tests.web.test_dashboard_browser import Live

TODAY = date(2026, 12, 3)  # the clock's Thursday


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        yield running


async def _caseloads(h: Harness) -> tuple[TelegramUser, TelegramUser, TelegramUser]:
    """Olga's Sam and Piet's Kim, each with tasks and a waiting referral; a coordinator."""
    olga, piet, cora = h.user("Olga"), h.user("Piet"), h.user("Cora")
    await h.add_staff(olga, name="Olga")
    await h.add_staff(piet, name="Piet")
    await h.add_staff(cora, "coordinator", name="Cora")
    sam_id = await h.register(
        h.user("Sam"), name="Sam Testpersoon", officer_telegram_id=olga.chat_id
    )
    kim_id = await h.register(
        h.user("Kim"), name="Kim Testpersoon", officer_telegram_id=piet.chat_id
    )
    zone = h.runtime.settings.tz
    async with h.runtime.sessions() as session, session.begin():
        partner = await partners.add(
            session, name="Schuldhulp Voorbeeld", domain="money", contact="Marloes", reach=None,
            now=h.clock.now(),
        )  # fmt: skip
        for pid, title, owner, days in (
            (sam_id, "Huurcontract tekenen", "participant", 1),
            (sam_id, "Later werk zoeken", "officer", 30),  # not within the week
            (sam_id, "Schuldenoverzicht <b>maken</b>", f"partner:{partner.id}", 6),
            (kim_id, "Zorgverzekering regelen", "participant", 2),
        ):
            await plan.add_task(
                session, pid, domain="money", title=title, owner=owner,
                due=TODAY + timedelta(days=days), now=h.clock.now(), zone=zone,
            )  # fmt: skip
        for pid in (sam_id, kim_id):
            await referrals.add(
                session, pid, partner.id, now=h.clock.now(), zone=zone, note=None,
                sent_on=TODAY - timedelta(days=14),
            )  # fmt: skip
    h.clock.advance(timedelta(days=3))  # Sunday 6 December: Sam's first task is 1 day late
    return olga, piet, cora


async def test_due_lists_late_and_soon_tasks_of_the_caseload(h: Harness) -> None:
    await _caseloads(h)
    async with h.runtime.sessions() as session:
        everyone = await due.due(session, None, date(2026, 12, 6))
    titles = [plan.title_of(item.task) for item in everyone.tasks]
    assert titles == [
        "Huurcontract tekenen", "Zorgverzekering regelen", "Schuldenoverzicht <b>maken</b>",
    ]  # fmt: skip
    assert [item.days_late for item in everyone.tasks] == [2, 1, -3]
    assert everyone.tasks[2].partner == "Schuldhulp Voorbeeld"
    assert [r.workdays for r in everyone.referrals] == [11, 11]
    assert due.workdays_between(date(2026, 12, 4), date(2026, 12, 7)) == 1  # Fri → Mon


async def test_tasks_in_the_chat(h: Harness) -> None:
    officer, _piet, coordinator = await _caseloads(h)
    officer.send("/tasks")
    await h.pump()
    shown = officer.last_reply()
    assert "Huurcontract tekenen" in shown and "2 days late" in shown
    assert "Schuldhulp Voorbeeld" in shown and "waiting 11 working days" in shown
    assert "Kim" not in shown and "Later werk" not in shown
    coordinator.send("/tasks")
    await h.pump()
    assert "Kim Testpersoon" in coordinator.last_reply() and "Sam" in coordinator.last_reply()
    async with h.runtime.sessions() as session:
        audited = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "due_viewed"))
        ).all()
    assert [entry.actor_telegram_id for entry in audited] == [
        officer.chat_id,
        coordinator.chat_id,
    ]
    officer.send("/help")
    await h.pump()
    assert "/tasks" in officer.last_reply()


async def test_nothing_due_says_so(h: Harness) -> None:
    olga = h.user("Olga")
    await h.add_staff(olga, name="Olga")
    olga.send("/tasks")
    await h.pump()
    assert "Nothing is due in the next week" in olga.last_reply()


async def test_the_tasks_page(h: Harness) -> None:
    olga, _piet, cora = await _caseloads(h)
    async with served(h) as base:
        async with browser() as client:
            async with client.get(base + "/dashboard/tasks") as page:
                assert page.url.path == "/dashboard/login"
            await log_in(client, base, h, olga.chat_id)
            async with client.get(base + "/dashboard/tasks") as page:
                assert page.status == 200
                html = await page.text()
        assert "Huurcontract tekenen" in html and "Kim Testpersoon" not in html
        assert "Schuldenoverzicht &lt;b&gt;maken&lt;/b&gt;" in html  # escaped, never markup
        assert 'href="/dashboard/tasks" aria-current="page"' in html
        assert "waiting 11 working days" in html
        async with browser() as client:
            await log_in(client, base, h, cora.chat_id)
            async with client.get(base + "/dashboard/tasks") as page:
                assert "Kim Testpersoon" in await page.text()
    async with h.runtime.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert actions.count("due_viewed") == 2


@pytest.fixture
def live(sqlite_url: str, clock: ManualClock) -> Iterator[Live]:
    running = Live(sqlite_url, clock)
    try:
        yield running
    finally:
        running.close()


def test_the_tasks_page_in_the_browser(live: Live, page: Any, tmp_path: Path) -> None:
    olga, _piet, _cora = live.run(_caseloads(live.h))
    page.goto(live.base + live.run(login_path(live.h, olga.chat_id)))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live.base + "/dashboard/")
    page.get_by_role("link", name="Tasks").click()
    page.wait_for_url(live.base + "/dashboard/tasks")
    late = page.locator("table.tasks tr", has_text="Huurcontract tekenen")
    assert late.locator("td.warn").inner_text() == "2 days late"
    assert page.locator("table.referrals tbody tr").count() == 1
    shot = page.screenshot(full_page=True)
    assert_not_blank(shot)
    (screenshot_dir(tmp_path) / "dashboard-tasks.png").write_bytes(shot)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert_not_blank(page.screenshot(full_page=True))
