"""Hostile input in every dashboard form field and in what participants send: huge, NUL,
right-to-left overrides, HTML and script. It is stored as text (or refused with a clear
page), rendered escaped, and never makes a server error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from sqlalchemy import select

from db.models import Alert, OutboxItem
from tests.clock import ManualClock
from tests.harness import Harness, running_harness
from tests.web.dashboard import browser, csrf_of, log_in, served

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
RTL = "gepland \u202eeg.exe\u202c klaar \u2067مرحبا\u2069"
NUL = "voor\x00na"
HUGE = "a" * (5 * 1024 * 1024)
HOSTILE = [SCRIPT, RTL, NUL, "", " ", "\u200b", "💬" * 50]


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _world(h: Harness) -> tuple[int, int]:
    olga = h.user(first_name="Olga")
    await h.add_staff(olga, name="Olga")
    sam = h.user(first_name="Sam")
    sam_id = await h.register(sam, name=SCRIPT + RTL, officer_telegram_id=olga.chat_id)
    sam.send(SCRIPT + " ik wil dood " + RTL)
    await h.pump()
    return olga.chat_id, sam_id


def _escaped(page: str) -> None:
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


async def _relay_texts(h: Harness) -> list[str]:
    async with h.runtime.sessions() as session:
        rows = (await session.scalars(select(OutboxItem).where(OutboxItem.kind == "relay"))).all()
    return [str(row.payload.get("text")) for row in rows]


async def test_reply_field(h: Harness) -> None:
    olga, sam_id = await _world(h)
    url = f"/dashboard/participants/{sam_id}"
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        async with client.get(base + url) as page:
            assert page.status == 200
            _escaped(await page.text())
        csrf = await csrf_of(client, base + url)
        for value in HOSTILE:
            form = {"csrf": csrf, "text": value}
            async with client.post(base + url + "/reply", data=form) as answer:
                assert answer.status in (200, 400), value
                if not value.strip() or value == "\u200b":
                    assert answer.status == 400 or value == "\u200b"
        async with client.post(base + url + "/reply", data={"csrf": csrf, "text": HUGE}) as big:
            assert big.status == 400
            assert "too long" in await big.text()
        texts = await _relay_texts(h)
        assert any(text.endswith("\n" + SCRIPT) for text in texts)
        assert any(text.endswith("\n" + RTL) for text in texts)
        assert any(text.endswith("\nvoorna") for text in texts)  # NUL dropped, rest kept
        assert all(len(text) < 5000 for text in texts)
        await h.pump()
        async with client.get(base + url) as page:
            body = await page.text()
        _escaped(body)
        assert "\u202eeg.exe" in body  # shown as written, inside dir=auto
        assert "\x00" not in body


async def test_search_filters_and_paging(h: Harness) -> None:
    olga, _sam_id = await _world(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        for field in ("q", "show", "language", "sort", "desc", "page"):
            for value in (*HOSTILE, "%", "_", "\\", "' OR 1=1 --", "9" * 40, "-1"):
                async with client.get(f"{base}/dashboard/?{field}={quote(value)}") as page:
                    assert page.status == 200, (field, value)
                    body = await page.text()
                    assert "<script>alert" not in body
        async with client.get(f"{base}/dashboard/?q={quote(SCRIPT)}") as page:
            body = await page.text()
        assert 'value="&lt;script&gt;' in body
        async with client.get(f"{base}/dashboard/?q=%25") as page:  # a literal %, not a wildcard
            assert "participant" in (await page.text()).lower()
        async with client.get(f"{base}/dashboard/?q={'a' * 20_000}") as huge:
            assert huge.status in (200, 400, 414, 431)


async def test_alert_forms_and_paths(h: Harness) -> None:
    olga, sam_id = await _world(h)
    async with h.runtime.sessions() as session:
        alert_id = await session.scalar(select(Alert.id).where(Alert.participant_id == sam_id))
    assert alert_id is not None
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        async with client.get(f"{base}/dashboard/alerts") as page:
            _escaped(await page.text())
        csrf = await csrf_of(client, f"{base}/dashboard/alerts")
        for target in (
            "javascript:alert(1)",
            "//evil.example/",
            "https://evil.example",
            SCRIPT,
            NUL,
        ):
            form = {"csrf": csrf, "next": target}
            async with client.post(
                f"{base}/dashboard/alerts/{alert_id}/ack", data=form, allow_redirects=False
            ) as answer:
                assert answer.status == 303
                assert answer.headers["Location"] == "/dashboard/alerts"
        for path in (
            f"/dashboard/alerts/{alert_id}/explode",
            "/dashboard/alerts/99999999999999999999/ack",
            f"/dashboard/alerts/{quote(SCRIPT, safe='')}/ack",
        ):
            async with client.post(base + path, data={"csrf": csrf}) as answer:
                assert answer.status == 404, path
        for path in (
            "/dashboard/participants/-1",
            "/dashboard/participants/1e9",
            f"/dashboard/participants/{quote(SCRIPT, safe='')}",
            f"/dashboard/participants/{'9' * 50}",
        ):
            async with client.get(base + path) as page:
                assert page.status == 404, path
                assert "<script>alert" not in await page.text()


async def test_login_token_path(h: Harness) -> None:
    await _world(h)
    async with served(h) as base, browser() as client:
        for token in (quote(SCRIPT, safe=""), "a" * 5000, quote(RTL, safe=""), "%00"):
            async with client.get(f"{base}/dashboard/login/{token}") as page:
                assert page.status in (200, 404), token
                assert "<script>alert" not in await page.text()
            async with client.post(
                f"{base}/dashboard/login/{token}", allow_redirects=False
            ) as answer:
                assert answer.status in (403, 404), token
