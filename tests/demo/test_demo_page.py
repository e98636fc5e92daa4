"""The demo's page in a real headless browser: phones that show what the bot sends, buttons
that work, right-to-left Arabic, and text people type shown as text, never as HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser import assert_not_blank, screenshot_dir
from tests.demo.conftest import RunningDemo

PHONES = ("participant", "officer", "coordinator")


def _open(page: Any, demo: RunningDemo) -> None:
    page.goto(demo.url + "/")
    page.wait_for_selector("#phone-participant .bubble")
    page.wait_for_selector("#phone-officer .bubble")
    page.wait_for_selector("#phone-coordinator .bubble")


def _choose(page: Any, demo: RunningDemo, language: str) -> None:
    page.select_option("#participant-select", str(demo.chat_id("participant", language)))


def test_a_button_on_the_participant_phone_is_answered(
    page: Any, demo: RunningDemo, tmp_path: Path
) -> None:
    _open(page, demo)
    _choose(page, demo, "en")
    phone = page.locator("#phone-participant")
    phone.locator(".keyboard button", has_text="Check-in").click()
    question = phone.locator(".row", has=page.locator(".inline button")).last
    question.wait_for()
    before = phone.locator(".bubble").count()
    question.locator(".inline button").first.click()
    page.wait_for_function(
        "n => document.querySelectorAll('#phone-participant .bubble').length > n", arg=before
    )
    shots = screenshot_dir(tmp_path)
    for kind in PHONES:
        png = page.locator(f"#phone-{kind} .screen").screenshot()
        (shots / f"demo-{kind}.png").write_bytes(png)
        assert_not_blank(png)


def test_the_officer_sees_the_group_with_its_topics(page: Any, demo: RunningDemo) -> None:
    _open(page, demo)
    page.click("text=Officers' group")
    page.wait_for_selector("#phone-officer .service")  # a topic per participant
    assert page.locator("#topic-select option").count() >= 2
    assert page.locator("#phone-officer .bubble .sender").count() >= 1  # the officer wrote


def test_arabic_is_right_to_left(page: Any, demo: RunningDemo) -> None:
    _open(page, demo)
    _choose(page, demo, "ar")
    # The bot's answers to Yusuf, whatever their wording: Arabic script, right to left.
    bubble = page.locator("#phone-participant .row:not(.mine) .bubble", has_text="مرشدك").first
    bubble.wait_for()
    assert bubble.evaluate("e => getComputedStyle(e).direction") == "rtl"
    dutch = page.locator("#phone-officer .bubble").first
    assert dutch.evaluate("e => getComputedStyle(e).direction") == "ltr"


def test_what_people_type_is_shown_as_text(page: Any, demo: RunningDemo) -> None:
    hostile = '<img src=x onerror="window.pwned=1"><b>vet</b> \u202eevil'
    chat = demo.chat_id("participant", "tr")
    status, _ = demo.request("POST", f"/api/chats/{chat}/messages", {"text": hostile})
    assert status == 201
    _open(page, demo)
    _choose(page, demo, "tr")
    bubble = page.locator("#phone-participant .bubble", has_text="<b>vet</b>")
    bubble.wait_for()
    assert bubble.locator("b, img:not([alt=photo])").count() == 0
    assert page.evaluate("() => window.pwned") is None


def test_a_new_participant_from_the_page(page: Any, demo: RunningDemo) -> None:
    _open(page, demo)
    page.click("text=+ New")
    page.fill("#new-participant input[name=name]", "Noa Testperson")
    page.select_option("#new-participant select[name=language]", "pl")
    page.click("text=Sign up with an invite")
    page.wait_for_function(
        "() => document.querySelector('#participant-select').selectedOptions[0]"
        ".textContent.startsWith('Noa Testperson')",
        timeout=20_000,
    )
    page.wait_for_selector("#phone-participant .keyboard button")


def test_the_page_opens_the_dashboard_as_the_officer(
    page: Any, demo: RunningDemo, tmp_path: Path
) -> None:
    """The demo serves the staff dashboard too; its link logs the demo's officer in once."""
    _open(page, demo)
    link = page.locator("#dashboard")
    link.wait_for()
    with page.context.expect_page() as opened:
        link.click()
    dashboard = opened.value
    dashboard.wait_for_load_state()
    dashboard.locator("form button.primary").click()
    dashboard.wait_for_selector("text=Jordy Vermeulen")
    assert "Kasia Nowak" in dashboard.content()
    png = dashboard.screenshot(full_page=True)
    (screenshot_dir(tmp_path) / "demo-dashboard.png").write_bytes(png)
    assert_not_blank(png)
    status, _ = demo.request("GET", "/dashboard?as=nobody")
    assert status == 400
