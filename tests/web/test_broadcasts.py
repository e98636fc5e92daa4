"""The dashboard's broadcasts page: coordinators only, CSRF on every POST, the chat's
rules (the default language's text required, 4,000 characters, a known cohort, a moment
to come), audited, progress polled, and hostile texts stored as text and shown escaped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.engine import scheduler
from db.models import AuditEntry, Broadcast, OutboxItem
from tests.clock import ManualClock
from tests.harness import Harness, running_harness
from tests.web.dashboard import browser, csrf_of, log_in, served
from tests.web.test_hostile_input import HUGE, NUL, RTL, SCRIPT

PAGE = "/dashboard/broadcasts"


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        yield running


async def _world(h: Harness) -> tuple[int, int]:
    """A coordinator (Cora), an officer (Olga) and two participants: (cora, olga)."""
    cora, olga = h.user(first_name="Cora"), h.user(first_name="Olga")
    await h.add_staff(cora, name="Cora", role="coordinator")
    await h.add_staff(olga, name="Olga")
    for name in ("Sam Testpersoon", "Kim Testpersoon"):
        await h.register(h.user(first_name=name.split()[0]), name=name, officer_telegram_id=None)
    return cora.chat_id, olga.chat_id


async def _broadcasts(h: Harness) -> list[Broadcast]:
    async with h.runtime.sessions() as session:
        return list((await session.scalars(select(Broadcast).order_by(Broadcast.id))).all())


def _form(csrf: str, **values: str) -> dict[str, str]:
    return {"csrf": csrf, "cohort": "all", "when": "now", **values}


async def test_no_session_goes_to_login(h: Harness) -> None:
    await _world(h)
    async with served(h) as base, browser() as client:
        async with client.get(base + PAGE, allow_redirects=False) as page:
            assert page.status == 303 and page.headers["Location"] == "/dashboard/login"
        async with client.post(base + PAGE, data={"text-nl": "x"}) as post:
            assert post.status == 401
        async with client.get(base + "/dashboard/api/broadcasts") as api:
            assert api.status == 401
    assert await _broadcasts(h) == []


async def test_officers_are_refused(h: Harness) -> None:
    _cora, olga = await _world(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, olga)
        async with client.get(base + PAGE) as page:
            assert page.status == 404
        async with client.get(base + "/dashboard/") as page:
            assert f'href="{PAGE}"' not in await page.text()
        csrf = await csrf_of(client, base + "/dashboard/")
        async with client.post(base + PAGE, data=_form(csrf, **{"text-nl": "Hallo"})) as post:
            assert post.status == 404
        async with client.post(f"{base}{PAGE}/1/cancel", data={"csrf": csrf}) as post:
            assert post.status == 404
        async with client.get(base + "/dashboard/api/broadcasts") as api:
            assert api.status == 404
    assert await _broadcasts(h) == []


async def test_missing_csrf_is_refused(h: Harness) -> None:
    cora, _olga = await _world(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, cora)
        for csrf in ("", "0" * 64):
            async with client.post(base + PAGE, data=_form(csrf, **{"text-nl": "Hoi"})) as post:
                assert post.status == 403
        async with client.post(base + PAGE, data={"text-nl": "Hoi", "cohort": "all"}) as post:
            assert post.status == 403
        async with client.post(f"{base}{PAGE}/1/cancel", data={}) as post:
            assert post.status == 403
    assert await _broadcasts(h) == []


async def test_compose_now_goes_out_and_progress_is_polled(h: Harness) -> None:
    cora, _olga = await _world(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, cora)
        csrf = await csrf_of(client, base + PAGE)
        async with client.get(base + "/dashboard/api/broadcasts") as api:
            before = (await api.json())["mark"]
        form = _form(csrf, **{"text-nl": "De balie is dicht.", "text-en": "The desk is closed."})
        async with client.post(base + PAGE, data=form, allow_redirects=False) as post:
            assert post.status == 303
        stored = await _broadcasts(h)
        assert len(stored) == 1
        assert stored[0].texts == {"nl": "De balie is dicht.", "en": "The desk is closed."}
        assert stored[0].cohort == "all" and stored[0].progress_chat_id is None
        async with client.get(base + "/dashboard/api/broadcasts") as api:
            planned = (await api.json())["mark"]
        assert planned != before
        await scheduler.run_broadcasts(h.runtime)
        await h.pump()
        await scheduler.run_broadcasts(h.runtime)
        async with client.get(base + "/dashboard/api/broadcasts") as api:
            assert (await api.json())["mark"] != planned
        async with client.get(base + PAGE) as page:
            text = await page.text()
        assert "2 sent" in text and "0 to go" in text and "done" in text
    async with h.runtime.sessions() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor_telegram_id == cora)
            )
        ).all()
    assert "web_broadcast_created" in actions


async def test_later_can_be_cancelled(h: Harness) -> None:
    cora, _olga = await _world(h)
    later = (h.clock.now() + timedelta(days=1)).astimezone(h.runtime.settings.tz)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, cora)
        csrf = await csrf_of(client, base + PAGE)
        form = _form(
            csrf,
            cohort="language:en",
            when="later",
            at=later.strftime("%Y-%m-%dT%H:%M"),
            **{"text-nl": "Morgen open."},
        )
        async with client.post(base + PAGE, data=form, allow_redirects=False) as post:
            assert post.status == 303
        (stored,) = await _broadcasts(h)
        assert stored.cohort == "language:en" and stored.send_at > h.clock.now()
        await scheduler.run_broadcasts(h.runtime)
        async with client.get(base + PAGE) as page:
            assert f"Cancel broadcast {stored.id}" in await page.text()
        url = f"{base}{PAGE}/{stored.id}/cancel"
        async with client.post(url, data={"csrf": csrf}, allow_redirects=False) as post:
            assert post.status == 303
    (stored,) = await _broadcasts(h)
    assert stored.status == "cancelled"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"text-nl": ""}, "That message is empty."),
        ({"text-nl": " \n "}, "That message is empty."),
        ({"text-en": "Only English"}, "That message is empty."),
        ({"text-nl": "x" * 4001}, "at most 4000 characters"),
        ({"text-nl": "Hoi", "text-en": "😀" * 2001}, "at most 4000 characters"),
        ({"text-nl": "Hoi", "cohort": "language:xx"}, "Choose who gets it."),
        ({"text-nl": "Hoi", "cohort": SCRIPT}, "Choose who gets it."),
        ({"text-nl": "Hoi", "when": "later", "at": "gisteren"}, "Choose a date and time."),
        ({"text-nl": "Hoi", "when": "later", "at": "2020-01-01T10:00"}, "has passed"),
    ],
)
async def test_the_chats_rules_refuse(h: Harness, values: dict[str, str], message: str) -> None:
    cora, _olga = await _world(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, cora)
        csrf = await csrf_of(client, base + PAGE)
        async with client.post(base + PAGE, data=_form(csrf, **values)) as post:
            assert post.status == 400
            assert message in await post.text()
    assert await _broadcasts(h) == []


async def test_hostile_texts_are_stored_as_text_and_shown_escaped(h: Harness) -> None:
    cora, _olga = await _world(h)
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, cora)
        csrf = await csrf_of(client, base + PAGE)
        async with client.post(base + PAGE, data=_form(csrf, **{"text-nl": HUGE})) as post:
            assert post.status == 400
            page = await post.text()
            assert "at most 4000 characters" in page and len(page) < 100_000
        hostile = f"{SCRIPT}\n{RTL}\n{NUL}"
        form = _form(csrf, **{"text-nl": hostile, "text-ar": RTL})
        async with client.post(base + PAGE, data=form) as post:
            assert post.status == 200
            page = await post.text()
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    (stored,) = await _broadcasts(h)
    assert stored.texts["nl"] == f"{SCRIPT}\n{RTL}\nvoorna"
    assert stored.texts["ar"] == RTL
    await scheduler.run_broadcasts(h.runtime)
    await h.pump()
    async with h.runtime.sessions() as session:
        sent = (
            await session.scalars(select(OutboxItem).where(OutboxItem.kind == "broadcast"))
        ).all()
    assert sent and all(SCRIPT in str(row.payload["text"]) for row in sent)


async def test_the_page_speaks_the_coordinators_language(h: Harness) -> None:
    await _world(h)
    anna = h.user(first_name="Anna")
    await h.add_staff(anna, name="Anna", role="coordinator", language="nl")
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, anna.chat_id)
        async with client.get(base + PAGE) as page:
            text = await page.text()
    assert "Nieuw rondzendbericht" in text and "Wie krijgt het?" in text
    assert 'lang="nl"' in text and "Engels" in text
