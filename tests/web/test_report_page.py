"""The pilot report in the dashboard: coordinators pick a period, read the report on the
page (charts as PNG: the page's policy forbids inline styles) and download it as PDF,
CSV tables and a web page; officers get a 404 and no link; every view is audited; in a
real browser the page makes no outside request."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from sqlalchemy import select

from db.models import AuditEntry
from tests.browser import assert_not_blank, screenshot_dir
from tests.clock import ManualClock
from tests.harness import Harness, running_harness
from tests.report import seed
from tests.web.dashboard import browser, log_in, login_path, served
from tests.web.test_dashboard_browser import Live

PERIOD = f"from={seed.FIRST}&to={seed.LAST}"


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        async with running.runtime.sessions() as session, session.begin():
            await seed.seed(session)
        yield running


async def test_a_coordinator_reads_and_downloads_the_report(h: Harness) -> None:
    cora = h.user(first_name="Cora")
    await h.add_staff(cora, name="Cora", role="coordinator")
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, cora.chat_id)
        async with client.get(f"{base}/dashboard/report") as page:
            assert page.status == 200
            text = await page.text()
        assert 'href="/dashboard/report"' in text and 'name="from"' in text
        assert "Reach" not in text  # no report before a period is asked for
        async with client.get(f"{base}/dashboard/report?{PERIOD}") as page:
            assert page.status == 200
            text = await page.text()
        assert text.count('src="data:image/png;base64,') == 6
        assert "minutes to acknowledge them" in text and "&lt;5" in text
        assert not [word for word in seed.SECRETS if word in text]
        async with client.get(f"{base}/dashboard/report/pdf?{PERIOD}") as answer:
            assert answer.status == 200 and (await answer.read()).startswith(b"%PDF")
            assert "attachment" in answer.headers["Content-Disposition"]
        async with client.get(f"{base}/dashboard/report/csv?{PERIOD}") as answer:
            names = zipfile.ZipFile(io.BytesIO(await answer.read())).namelist()
            assert len(names) == 19 and "reach_status.csv" in names
        async with client.get(f"{base}/dashboard/report/html?{PERIOD}") as answer:
            assert "<svg" in await answer.text()
        async with client.get(f"{base}/dashboard/report?from=2026-04-01&to=2026-03-01") as page:
            assert page.status == 400 and "must not be after" in await page.text()
        for hostile in ("%3Cscript%3E", "2026-03-01%3Cb%3E", "\u202e2026-03-01", "9" * 5000, ""):
            async with client.get(f"{base}/dashboard/report?from={hostile}&to=x") as page:
                assert page.status == 400, hostile
                assert "<script>" not in await page.text() and "<b>" not in await page.text()
        async with client.get(f"{base}/dashboard/report?from=1900-01-01&to=2100-12-31") as page:
            assert page.status == 400 and "five years" in await page.text()
        async with client.get(f"{base}/dashboard/report/exe?{PERIOD}") as page:
            assert page.status == 404
    async with h.runtime.sessions() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "report"))
        ).all()
    # only the four that made a report: the refused periods are not audited as reports
    assert [(e.actor, e.actor_telegram_id) for e in entries] == [("web", cora.chat_id)] * 4
    assert [e.detail["formats"] for e in entries] == [["page"], ["pdf"], ["csv"], ["html"]]


async def test_officers_get_no_report(h: Harness) -> None:
    olga = h.user(first_name="Olga")
    await h.add_staff(olga, name="Olga")
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga.chat_id)
        async with client.get(f"{base}/dashboard/") as page:
            assert 'href="/dashboard/report"' not in await page.text()
        for path in (
            "/dashboard/report",
            f"/dashboard/report?{PERIOD}",
            f"/dashboard/report/pdf?{PERIOD}",
        ):
            async with client.get(base + path) as page:
                assert page.status == 404
    async with h.runtime.sessions() as session:
        assert not (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "report"))
        ).all()


@pytest.fixture
def live(sqlite_url: str, clock: ManualClock) -> Iterator[Live]:
    running = Live(sqlite_url, clock)
    try:
        yield running
    finally:
        running.close()


async def _seed_with_coordinator(h: Harness) -> int:
    async with h.runtime.sessions() as session, session.begin():
        await seed.seed(session)
    cora = h.user(first_name="Cora")
    await h.add_staff(cora, name="Cora", role="coordinator")
    return cora.chat_id


def test_the_report_page_in_a_browser(live: Live, page: Any, tmp_path: Path) -> None:
    cora = live.run(_seed_with_coordinator(live.h))
    page.set_viewport_size({"width": 1360, "height": 900})
    page.goto(live.base + live.run(login_path(live.h, cora)))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live.base + "/dashboard/")
    page.get_by_role("link", name="Pilot report").click()
    page.wait_for_url(live.base + "/dashboard/report")
    page.fill("input[name=from]", str(seed.FIRST))
    page.fill("input[name=to]", str(seed.LAST))
    page.get_by_role("button", name="Show the report").click()
    page.wait_for_selector("#safety_alerts")
    assert page.locator(".pilot-report img").count() == 6
    assert page.locator("#reach_enrolment tr.total td").inner_text() == "30"
    shot = page.screenshot(full_page=True)
    assert_not_blank(shot)
    (screenshot_dir(tmp_path) / "dashboard-report.png").write_bytes(shot)


async def test_the_report_is_in_the_coordinators_language(h: Harness) -> None:
    """A Dutch coordinator reads and downloads the report in Dutch; the English title
    is left nowhere."""
    cora = h.user(first_name="Cora")
    await h.add_staff(cora, name="Cora", role="coordinator", language="nl")
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, cora.chat_id)
        async with client.get(f"{base}/dashboard/report?{PERIOD}") as page:
            text = await page.text()
        assert "Waar deelnemers nu staan" in text and "Bereik" in text
        assert "Where participants stand today" not in text and "Methods" not in text
        async with client.get(f"{base}/dashboard/report/pdf?{PERIOD}") as answer:
            document = pypdfium2.PdfDocument(await answer.read())
        pdf = " ".join("\n".join(p.get_textpage().get_text_range() for p in document).split())
        assert "Oprit pilotrapport" in pdf and "Werkwijze" in pdf and "Methods" not in pdf
        async with client.get(f"{base}/dashboard/report/csv?{PERIOD}") as answer:
            tables = zipfile.ZipFile(io.BytesIO(await answer.read()))
        assert tables.read("reach_status.csv").decode().startswith("status,deelnemers\n")
