"""The dashboard in a real headless browser: an officer logs in through a one-time link,
reads the caseload, opens a participant (the mood plot has one point per check-in),
replies (the reply reaches the participant at the fake Bot API and the page shows it
delivered without a reload) and acknowledges an alert. Screenshots of each page are
saved (OPRIT_TEST_SCREENSHOTS=docs keeps them for the README) and must not be blank."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Iterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from bot.services import appointments, conditions, partners, plan, referrals
from db.models import Alert, Checkin
from tests.browser import assert_not_blank, screenshot_dir
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness
from tests.web.dashboard import login_path, served

T = TypeVar("T")
MOODS = {"good": "🙂 Good", "okay": "😐 Okay", "bad": "🙁 Bad"}
STATUSES = {"fine": "👍 Fine", "worried": "😟 Worried", "problem": "⚠️ Problem"}
CRISIS = "ik wil dood, ik kan niet meer"


class Live:
    """A harness and the dashboard on their own event loop in a thread: Playwright's sync
    API drives the browser on the test's thread meanwhile."""

    def __init__(self, database_url: str, clock: ManualClock) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = AsyncExitStack()
        self.h: Harness = self.run(
            self.stack.enter_async_context(running_harness(database_url, clock))
        )
        self.base: str = self.run(self.stack.enter_async_context(served(self.h)))

    def run(self, work: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(_awaited(work), self.loop).result(timeout=120)

    def close(self) -> None:
        self.run(self.stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def _awaited(work: Awaitable[T]) -> T:
    return await work


@pytest.fixture
def live(sqlite_url: str, clock: ManualClock) -> Iterator[Live]:
    clock.advance(-timedelta(days=20))  # the check-ins below end on the usual test morning
    running = Live(sqlite_url, clock)
    try:
        yield running
    finally:
        running.close()


async def checkin(h: Harness, user: TelegramUser, mood: str, answers: dict[str, str]) -> None:
    """A whole check-in through the real buttons."""
    user.send("/checkin")
    await h.pump()
    user.press(MOODS[mood])
    await h.pump()
    for domain in ("housing", "work", "money", "care", "paperwork"):
        user.press(STATUSES[answers.get(domain, "fine")])
        await h.pump()
    user.press("Skip")
    await h.pump()


async def _plan(session: Any, participant_id: int, h: Harness) -> None:
    """Two tasks, a referral and a condition (invented)."""
    now, zone = h.clock.now(), h.runtime.settings.tz
    for domain, title, days in (("housing", "Inschrijven bij de woningcorporatie", 25),
                                ("money", "Afspraak bij de schuldhulp maken", 30)):  # fmt: skip
        await plan.add_task(
            session, participant_id, domain=domain, title=title, owner="participant",
            due=now.date() + timedelta(days=days), now=now, zone=zone,
        )  # fmt: skip
    partner = await partners.add(
        session, name="Schuldhulp Voorbeeldstad", domain="money", contact=None, reach=None, now=now
    )
    await referrals.add(session, participant_id, partner.id, now=now, zone=zone)
    await conditions.add(
        session, participant_id, kind="reporting_duty",
        text="Elke maandag melden bij de reclassering", now=now,
    )  # fmt: skip


async def seed(h: Harness) -> dict[str, Any]:
    """An officer with a small caseload in different states (invented names)."""
    olga = h.user(first_name="Olga")
    await h.add_staff(olga, name="Olga Bakker")
    people: dict[str, TelegramUser] = {}
    ids: dict[str, int] = {}
    for name in ("Sam de Vries", "Noor Jansen", "Kim Visser", "Daan Smit", "Yara el Amrani"):
        user = h.user(first_name=name.split()[0])
        ids[name] = await h.register(user, name=name, officer_telegram_id=olga.chat_id)
        people[name] = user
    sam = people["Sam de Vries"]
    weeks = [
        ("good", {}),
        ("okay", {"money": "worried"}),
        ("bad", {"money": "problem", "housing": "worried"}),
        ("okay", {"money": "worried"}),
        ("good", {"work": "worried"}),
    ]
    for mood, answers in weeks:
        await checkin(h, sam, mood, answers)
        await checkin(h, people["Noor Jansen"], "good", {})
        await h.advance(timedelta(days=4))
    await checkin(h, people["Kim Visser"], "bad", {"care": "problem"})
    sam.send("Ik heb de brief van de woningbouw gekregen, morgen bel ik ze.")
    await h.pump()
    await h.advance(timedelta(hours=2))
    sam.send(CRISIS)
    await h.pump()
    people["Daan Smit"].send("/request")
    await h.pump()
    people["Daan Smit"].press("📄 Paperwork")
    await h.pump()
    people["Daan Smit"].send("Mijn DigiD werkt niet meer en ik moet mijn toeslag aanvragen.")
    await h.pump()
    people["Daan Smit"].press("Send")
    await h.pump()
    async with h.runtime.sessions() as session, session.begin():
        await appointments.create(
            session,
            ids["Sam de Vries"],
            at=h.clock.now() + timedelta(days=2, hours=3),
            with_org="Reclassering",
            location="Stationsplein 1",
            note=None,
            offsets=[timedelta(hours=24)],
            now=h.clock.now(),
            zone=h.runtime.settings.tz,
        )
        await _plan(session, ids["Sam de Vries"], h)
    await h.pump()
    async with h.runtime.sessions() as session:
        checkins = await session.scalar(
            select(Checkin.id).where(Checkin.participant_id == ids["Sam de Vries"]).limit(1)
        )
        assert checkins is not None
        completed = len(
            (
                await session.scalars(
                    select(Checkin).where(
                        Checkin.participant_id == ids["Sam de Vries"],
                        Checkin.status == "completed",
                    )
                )
            ).all()
        )
    return {"olga": olga, "sam": sam, "sam_id": ids["Sam de Vries"], "checkins": completed}


def test_an_officers_day_in_the_browser(live: Live, page: Any, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    world = live.run(seed(live.h))
    assert world["checkins"] == 5
    page.set_viewport_size({"width": 1360, "height": 900})

    page.goto(live.base + "/dashboard/")
    assert page.url.endswith("/dashboard/login")
    page.goto(live.base + live.run(login_path(live.h, world["olga"].chat_id)))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live.base + "/dashboard/")

    page.keyboard.press("Tab")  # the keyboard reaches the content first, then every link
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.locator("tr", has_text="Daan Smit").locator(".badge.attention").count() == 1
    row = page.locator("tr", has_text="Sam de Vries")
    assert row.locator(".sev-critical").count() == 1
    assert row.locator("svg.spark circle").count() == 5
    shot = page.screenshot(full_page=True)
    assert_not_blank(shot)
    (shots / "dashboard-caseload.png").write_bytes(shot)

    page.get_by_role("link", name="Sam de Vries").click()
    page.wait_for_url(f"{live.base}/dashboard/participants/{world['sam_id']}")
    assert page.locator("svg.moodplot circle.mood-point").count() == world["checkins"]
    assert page.locator("mark").first.inner_text().lower() in CRISIS
    assert page.locator(".heat-problem").count() >= 1
    plan_card = page.locator("section", has=page.locator("#h-plan"))
    assert plan_card.locator(".task").count() == 2
    assert "Schuldhulp Voorbeeldstad" in plan_card.inner_text()
    assert "Elke maandag melden" in plan_card.inner_text()
    shot = page.screenshot(full_page=True)
    assert_not_blank(shot)
    (shots / "dashboard-participant.png").write_bytes(shot)

    page.get_by_label("Reply to Sam de Vries").fill(
        "Ik bel je om 14:00. Je staat er niet alleen voor."
    )
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector(".msg.pending")
    live.run(live.h.pump())
    assert any("Ik bel je om 14:00" in text for text in world["sam"].replies())
    # The page polls: the reply shows as delivered without a reload.
    page.wait_for_selector(".msg-out .state.delivered", timeout=15_000)
    assert page.locator(".msg.pending").count() == 0

    acknowledge = page.locator("#open-alerts").get_by_role("button", name="Acknowledge")
    waiting = acknowledge.count()
    assert waiting >= 1
    acknowledge.first.click()
    page.wait_for_url(f"{live.base}/dashboard/participants/{world['sam_id']}")
    assert acknowledge.count() == waiting - 1

    async def statuses() -> list[str]:
        async with live.h.runtime.sessions() as session:
            return [
                str(status)
                for status in (
                    await session.scalars(
                        select(Alert.status).where(Alert.participant_id == world["sam_id"])
                    )
                ).all()
            ]

    assert "acknowledged" in live.run(statuses())

    plan_card.locator(".task", has_text="woningcorporatie").get_by_role("button").click()
    page.wait_for_url(f"{live.base}/dashboard/participants/{world['sam_id']}#h-plan")
    assert plan_card.locator(".task-done", has_text="woningcorporatie").count() == 1

    page.get_by_text("Add an appointment").click()
    moment = (live.h.clock.now() + timedelta(days=5)).astimezone(live.h.runtime.settings.tz)
    page.get_by_label("Date and time").fill(moment.strftime("%Y-%m-%dT10:30"))
    page.get_by_label("With (organisation or person)").fill("Gemeente, Werk en Inkomen")
    page.get_by_label("Where (optional)").fill("Stadhuisplein 2")
    page.get_by_role("button", name="Plan appointment").click()
    page.wait_for_url(f"{live.base}/dashboard/participants/{world['sam_id']}#h-appt")
    assert page.locator("#appointments", has_text="Gemeente, Werk en Inkomen").count() == 1
    live.run(live.h.pump())
    assert any("Gemeente, Werk en Inkomen" in text for text in world["sam"].replies())

    page.get_by_role("link", name="Alerts").click()
    page.wait_for_url(live.base + "/dashboard/alerts")
    shot = page.screenshot(full_page=True)
    assert_not_blank(shot)
    (shots / "dashboard-alerts.png").write_bytes(shot)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(live.base + "/dashboard/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    shot = page.screenshot(full_page=True)
    assert_not_blank(shot)
    (shots / "dashboard-phone.png").write_bytes(shot)
