"""The broadcasts page in a real headless browser: a coordinator writes a broadcast in two
languages, sends it now, watches the progress change without reloading while the messages
arrive at the local Telegram, then plans one for tomorrow and cancels it. The screenshot
is docs/dashboard-broadcasts.png when OPRIT_TEST_SCREENSHOTS=docs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.engine import scheduler
from tests.browser import assert_not_blank, screenshot_dir
from tests.harness import Harness
from tests.web.dashboard import login_path
from tests.web.test_dashboard_browser import Live, live  # noqa: F401 (the fixture)

NL = "De balie van de gemeente is vrijdag dicht. Bel ons gerust als je vragen hebt."
EN = "The municipality's desk is closed on Friday. Call us if you have questions."


async def _world(h: Harness) -> dict[str, Any]:
    cora = h.user(first_name="Cora")
    await h.add_staff(cora, name="Cora Mulder", role="coordinator")
    olga = h.user(first_name="Olga")
    await h.add_staff(olga, name="Olga Bakker")
    readers = {}
    for name, language in (("Sam de Vries", "English"), ("Noor Jansen", "Nederlands"),
                           ("Kim Visser", "English")):  # fmt: skip
        user = h.user(first_name=name.split()[0])
        await h.register(user, name=name, language=language, officer_telegram_id=olga.chat_id)
        readers[name] = user
    return {"cora": cora, "readers": readers}


async def _deliver(h: Harness) -> None:
    await scheduler.run_broadcasts(h.runtime)
    await h.pump()
    await scheduler.run_broadcasts(h.runtime)


def test_compose_send_and_follow_a_broadcast(live: Live, page: Any, tmp_path: Path) -> None:  # noqa: F811
    shots = screenshot_dir(tmp_path)
    world = live.run(_world(live.h))
    page.set_viewport_size({"width": 1360, "height": 900})
    page.goto(live.base + live.run(login_path(live.h, world["cora"].chat_id)))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live.base + "/dashboard/")
    page.get_by_role("link", name="Broadcasts").click()
    page.wait_for_url(live.base + "/dashboard/broadcasts")

    page.locator("#text-nl").fill(NL)
    page.locator("#text-en").fill(EN)
    page.get_by_role("button", name="📣 Send").click()
    page.wait_for_selector(".broadcast-scheduled")
    assert "3 to go" in page.locator(".broadcast").first.inner_text()

    live.run(_deliver(live.h))
    # The page polls: the counts change without a reload.
    page.wait_for_selector(".broadcast-done", timeout=15_000)
    assert "3 sent" in page.locator(".broadcast").first.inner_text()
    readers = world["readers"]
    assert any(EN in text for text in readers["Sam de Vries"].replies())
    assert any(NL in text for text in readers["Noor Jansen"].replies())
    assert all(NL not in text for text in readers["Kim Visser"].replies())

    tomorrow = live.h.clock.now() + timedelta(days=1)
    local = tomorrow.astimezone(live.h.runtime.settings.tz)
    page.locator("#text-nl").fill("Morgen is de balie weer open.")
    page.get_by_label("everyone who reads Dutch").check()
    page.get_by_label("Later, at:").check()
    page.locator("#at").fill(local.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="📣 Send").click()
    page.wait_for_selector(".broadcast-scheduled")
    assert "1 to go" in page.locator(".broadcast-scheduled").inner_text()
    shot = page.screenshot(full_page=True)
    assert_not_blank(shot)
    (shots / "dashboard-broadcasts.png").write_bytes(shot)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing sticks out
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.locator(".broadcast-scheduled").get_by_role("button").click()
    page.wait_for_selector(".broadcast-cancelled")
    live.run(_deliver(live.h))
    assert all("weer open" not in text for text in readers["Noor Jansen"].replies())
