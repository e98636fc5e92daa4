"""Who gets into the dashboard: only staff, through an unused link younger than ten
minutes, only to their own participants, only with the session's CSRF token, and never
again after `oprit staff remove`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.services import admin
from db.models import AuditEntry, OutboxItem
from tests.clock import ManualClock
from tests.conftest import TEST_KEY
from tests.harness import Harness, running_harness
from tests.web.dashboard import browser, csrf_of, log_in, login_path, served


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        yield running


async def _relays(h: Harness) -> list[OutboxItem]:
    async with h.runtime.sessions() as session:
        return list(
            (await session.scalars(select(OutboxItem).where(OutboxItem.kind == "relay"))).all()
        )


async def _setup(h: Harness) -> tuple[int, int, int, int]:
    """Two officers with one participant each: (olga, piet, olga's sam, piet's kim)."""
    olga, piet = h.user(first_name="Olga"), h.user(first_name="Piet")
    await h.add_staff(olga, name="Olga")
    await h.add_staff(piet, name="Piet")
    sam, kim = h.user(first_name="Sam"), h.user(first_name="Kim")
    sam_id = await h.register(sam, name="Sam Testpersoon", officer_telegram_id=olga.chat_id)
    kim_id = await h.register(kim, name="Kim Testpersoon", officer_telegram_id=piet.chat_id)
    return olga.chat_id, piet.chat_id, sam_id, kim_id


async def test_no_session_gets_the_login_page(h: Harness) -> None:
    await _setup(h)
    async with served(h) as base, browser() as client:
        for path in ("/dashboard/", "/dashboard/alerts", "/dashboard/participants/1"):
            async with client.get(base + path) as page:
                assert page.url.path == "/dashboard/login"
                assert "/dashboard" in await page.text() and "Sam" not in await page.text()
        async with client.get(base + "/dashboard/api/changes") as api:
            assert api.status == 401


async def test_a_link_works_once(h: Harness) -> None:
    olga, *_rest = await _setup(h)
    path = await login_path(h, olga)
    async with served(h) as base, browser() as first, browser() as second:
        async with first.get(base + path) as page:  # a GET (a link preview) uses nothing
            assert page.status == 200
        async with first.post(base + path, allow_redirects=False) as answer:
            assert answer.status == 303
            cookie = answer.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            assert "Secure" not in cookie  # plain http on 127.0.0.1
        async with first.get(base + "/dashboard/") as page:
            assert "Sam Testpersoon" in await page.text()
        async with second.post(base + path, allow_redirects=False) as again:
            assert again.status == 403
        async with second.get(base + "/dashboard/", allow_redirects=False) as page:
            assert page.status == 303


async def test_an_expired_link_is_refused(h: Harness) -> None:
    olga, *_rest = await _setup(h)
    path = await login_path(h, olga)
    h.clock.advance(timedelta(minutes=10, seconds=1))
    async with served(h) as base, browser() as client:
        async with client.post(base + path, allow_redirects=False) as answer:
            assert answer.status == 403
        async with client.post(base + "/dashboard/login/madeup", allow_redirects=False) as bad:
            assert bad.status == 403


async def test_secure_cookie_behind_https_proxy(h: Harness) -> None:
    olga, *_rest = await _setup(h)
    path = await login_path(h, olga)
    async with served(h) as base, browser() as client:
        headers = {"X-Forwarded-Proto": "https"}
        async with client.post(base + path, allow_redirects=False, headers=headers) as answer:
            assert "Secure" in answer.headers["Set-Cookie"]


async def test_idle_sessions_end_after_twelve_hours(h: Harness) -> None:
    olga, *_rest = await _setup(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        h.clock.advance(timedelta(hours=11))
        async with client.get(base + "/dashboard/", allow_redirects=False) as page:
            assert page.status == 200
        h.clock.advance(timedelta(hours=11))  # 11 h after the last request: still open
        async with client.get(base + "/dashboard/", allow_redirects=False) as page:
            assert page.status == 200
        h.clock.advance(timedelta(hours=6))
        async with client.get(base + "/dashboard/api/changes") as api:  # the page polling
            assert api.status == 200
        h.clock.advance(timedelta(hours=6, minutes=1))
        async with client.get(base + "/dashboard/", allow_redirects=False) as page:
            assert page.status == 303


async def test_another_officers_participant_is_not_found(h: Harness) -> None:
    olga, _piet, sam_id, kim_id = await _setup(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        async with client.get(f"{base}/dashboard/participants/{sam_id}") as mine:
            assert mine.status == 200
        async with client.get(f"{base}/dashboard/participants/{kim_id}") as theirs:
            assert theirs.status == 404
            assert "Kim" not in await theirs.text()
        async with client.get(f"{base}/dashboard/participants/999999") as nobody:
            assert nobody.status == 404
        async with client.get(f"{base}/dashboard/") as caseload:
            text = await caseload.text()
        assert "Sam Testpersoon" in text and "Kim Testpersoon" not in text
        csrf = await csrf_of(client, f"{base}/dashboard/")
        form = {"csrf": csrf, "text": "hallo"}
        async with client.post(f"{base}/dashboard/participants/{kim_id}/reply", data=form) as post:
            assert post.status == 404
        async with client.get(f"{base}/dashboard/api/changes?participant={kim_id}") as api:
            assert api.status == 404
    assert await _relays(h) == []


async def test_a_participants_telegram_id_opens_nothing(
    h: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    olga, _piet, _sam_id, _kim_id = await _setup(h)
    sam = h.user(first_name="Sam2")
    await h.register(sam, name="Sam Twee", officer_telegram_id=olga)
    sam.send("/dashboard")
    await h.pump()
    assert all("/dashboard/login/" not in reply for reply in sam.replies())
    monkeypatch.setenv("OPRIT_DATABASE_URL", h.runtime.settings.database_url)
    monkeypatch.setenv("OPRIT_ENCRYPTION_KEY", TEST_KEY)
    code = await _run_cli(["staff", "login-link", "--telegram-id", str(sam.chat_id), "--json"])
    assert code != 0
    assert "no active staff member" in capsys.readouterr().err


async def _run_cli(argv: list[str]) -> int:
    return await asyncio.to_thread(main, argv)


async def test_cli_login_link_prints_url_and_expiry(
    h: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    olga, *_rest = await _setup(h)
    monkeypatch.setenv("OPRIT_DATABASE_URL", h.runtime.settings.database_url)
    monkeypatch.setenv("OPRIT_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("OPRIT_WEB_PUBLIC_URL", "https://bot.example.nl")
    code = await _run_cli(["staff", "login-link", "--telegram-id", str(olga), "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"url", "expires_at"}
    assert data["url"].startswith("https://bot.example.nl/dashboard/login/")
    token = data["url"].rsplit("/", 1)[1]
    async with h.runtime.sessions() as session:
        stored = (await session.scalars(select(AuditEntry))).all()
    assert stored and all(token not in str(entry.detail) for entry in stored)


async def test_staff_dashboard_command_sends_a_link(h: Harness) -> None:
    officer = h.user(first_name="Lena")
    await h.add_staff(officer, name="Lena")
    officer.send("/dashboard")
    await h.pump()
    reply = officer.last_reply()
    assert "/dashboard/login/" in reply
    path = "/dashboard/login/" + reply.split("/dashboard/login/", 1)[1].split()[0]
    async with (
        served(h) as base,
        browser() as client,
        client.post(base + path, allow_redirects=False) as answer,
    ):
        assert answer.status == 303


async def test_missing_csrf_is_refused(h: Harness) -> None:
    olga, _piet, sam_id, _kim = await _setup(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        url = f"{base}/dashboard/participants/{sam_id}"
        for form in ({"text": "hallo"}, {"text": "hallo", "csrf": "0" * 64}, {"csrf": ""}):
            async with client.post(url + "/reply", data=form) as post:
                assert post.status == 403
        async with client.post(url + "/pause", data={}) as post:
            assert post.status == 403
        async with client.post(f"{base}/dashboard/logout") as post:
            assert post.status == 403
    assert await _relays(h) == []


async def test_removed_staff_lose_access_at_once(h: Harness) -> None:
    olga, _piet, sam_id, _kim = await _setup(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        async with client.get(f"{base}/dashboard/participants/{sam_id}") as page:
            assert page.status == 200
        async with h.runtime.sessions() as session, session.begin():
            await admin.remove_staff(session, olga, h.clock.now())
        async with client.get(
            f"{base}/dashboard/participants/{sam_id}", allow_redirects=False
        ) as page:
            assert page.status == 303 and page.headers["Location"] == "/dashboard/login"
        async with client.get(f"{base}/dashboard/api/changes") as api:
            assert api.status == 401


async def test_logout_ends_the_session(h: Harness) -> None:
    olga, *_rest = await _setup(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        csrf = await csrf_of(client, f"{base}/dashboard/")
        async with client.post(f"{base}/dashboard/logout", data={"csrf": csrf}) as out:
            assert out.url.path == "/dashboard/login"
        async with client.get(f"{base}/dashboard/", allow_redirects=False) as page:
            assert page.status == 303


async def test_case_views_and_actions_are_audited(h: Harness) -> None:
    olga, _piet, sam_id, _kim = await _setup(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        csrf = await csrf_of(client, f"{base}/dashboard/participants/{sam_id}")
        async with client.post(
            f"{base}/dashboard/participants/{sam_id}/reply", data={"csrf": csrf, "text": "Hoi"}
        ) as post:
            assert post.status == 200
        async with client.post(
            f"{base}/dashboard/participants/{sam_id}/pause", data={"csrf": csrf}
        ) as post:
            assert post.status == 200
    async with h.runtime.sessions() as session:
        mine = (
            await session.scalars(select(AuditEntry).where(AuditEntry.actor_telegram_id == olga))
        ).all()
    entries = [(entry.action, entry.participant_id) for entry in mine]
    assert ("case_read", sam_id) in entries
    assert ("web_reply", sam_id) in entries
    assert ("participant_paused", sam_id) in entries
    assert ("web_login", None) in entries


async def test_pages_speak_the_staff_members_language(h: Harness) -> None:
    _olga, _piet, sam_id, _kim = await _setup(h)
    anna = h.user(first_name="Anna")
    await h.add_staff(anna, name="Anna", language="nl", role="coordinator")
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, anna.chat_id)
        async with client.get(f"{base}/dashboard/") as page:
            text = await page.text()
        assert "Uitloggen" in text and "Deelnemer" in text and 'lang="nl"' in text
        assert "Kim Testpersoon" in text  # a coordinator sees everyone
        async with client.get(f"{base}/dashboard/participants/{sam_id}") as page:
            assert "Gesprek" in await page.text()
    async with served(h) as base, browser() as client:
        headers = {"Accept-Language": "en-GB,en;q=0.9"}
        async with client.get(f"{base}/dashboard/login", headers=headers) as page:
            assert "You are not logged in." in await page.text()


async def test_team_page_is_for_coordinators(h: Harness) -> None:
    olga, _piet, _sam_id, _kim = await _setup(h)
    cora = h.user(first_name="Cora")
    await h.add_staff(cora, name="Cora", role="coordinator")
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, cora.chat_id)
        async with client.get(f"{base}/dashboard/team") as page:
            assert page.status == 200
            text = await page.text()
        assert "Olga" in text and "Piet" in text and 'href="/dashboard/team"' in text
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        async with client.get(f"{base}/dashboard/team") as page:
            assert page.status == 404
        async with client.get(f"{base}/dashboard/") as page:
            assert 'href="/dashboard/team"' not in await page.text()
