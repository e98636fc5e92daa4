"""A real headless browser for the web page tests (the demo and the dashboard).

Debian's ``chromium`` driven by Playwright's Python package through ``executable_path``: no
browser download at test time. ``.ci/run`` installs chromium where it is missing, so there the
tests never skip; elsewhere they skip with a message that says what to install.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ENV = "OPRIT_TEST_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Without these, chromium tries Google's hosts at start and this machine's closed network
# refuses them; --no-sandbox because tests run as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR_ENV = "OPRIT_TEST_SCREENSHOTS"


def chromium_path() -> str | None:
    """The browser binary, from OPRIT_CHROMIUM or PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A headless Chromium per test; skips with the reason when none exists.

    Per test, not per session: Playwright's sync API keeps its event loop running in the
    main thread while it is started, and every async test after it in that process would
    fail with "Runner.run() cannot be called from a running event loop"."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium on PATH: `apt-get install chromium` (bash .ci/run does this)")
    from playwright.sync_api import sync_playwright  # a dev dependency: never skipped

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh page (own cookies) that fails the test on any request leaving 127.0.0.1."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", guard)
    browser_page = context.new_page()
    try:
        yield browser_page
    finally:
        context.close()
    assert not outside, f"the page made outside requests: {outside}"


def screenshot_dir(default: Path) -> Path:
    """Where screenshots go: OPRIT_TEST_SCREENSHOTS (to keep them) or the test's tmp dir."""
    configured = os.environ.get(SCREENSHOT_DIR_ENV)
    directory = Path(configured) if configured else default
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def assert_not_blank(png: bytes) -> None:
    """A screenshot with real content: more than a handful of distinct colours."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 20, f"screenshot looks blank ({len(colours)} colours)"
