"""The dashboard served by the real processes: inside `oprit run` when OPRIT_WEB_LISTEN is
set, and alone by `oprit web`; a login link from `oprit staff login-link` opens it."""

from __future__ import annotations

import http.cookiejar
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from bot.localtelegram import LocalTelegram
from tests.e2e.botprocess import OPRIT, bot_env, free_port, oprit, oprit_json, running_bot

STAFF_ID = 6_100_001


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard/login", timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _log_in_and_open(env: dict[str, str], cwd: Path, port: int) -> str:
    link = oprit_json(env, cwd, "staff", "login-link", "--telegram-id", str(STAFF_ID))
    assert link["url"].startswith(f"http://127.0.0.1:{port}/dashboard/login/")
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    path = urlsplit(link["url"]).path
    try:
        browser.open(urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST"))
    except urllib.error.HTTPError as answer:
        assert answer.code == 303
    with browser.open(f"http://127.0.0.1:{port}/dashboard/") as page:
        return str(page.read().decode())


def test_oprit_run_serves_the_dashboard_when_asked(api: LocalTelegram, tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(api.base_url, tmp_path, OPRIT_WEB_LISTEN=f"127.0.0.1:{port}")
    added = oprit(
        env, tmp_path, "staff", "add", "--telegram-id", str(STAFF_ID), "--role", "officer",
        "--name", "Olga Example",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    with running_bot(env, tmp_path):
        _wait_until_up(port)
        page = _log_in_and_open(env, tmp_path, port)
        assert "Olga Example" in page and "Uitloggen" in page  # staff read their language


def test_oprit_web_runs_alone_and_stops_on_sigterm(api: LocalTelegram, tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(api.base_url, tmp_path, OPRIT_WEB_LISTEN=f"127.0.0.1:{port}")
    env.pop("OPRIT_BOT_TOKEN")  # the dashboard needs no token
    added = oprit(
        env, tmp_path, "staff", "add", "--telegram-id", str(STAFF_ID), "--role", "coordinator",
        "--name", "Cora Example",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    log = (tmp_path / "web.log").open("wb")
    process = subprocess.Popen([*OPRIT, "web"], env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        _wait_until_up(port)
        page = _log_in_and_open(env, tmp_path, port)
        assert "Cora Example" in page
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
        log.close()
    assert code == 0, (tmp_path / "web.log").read_text()
