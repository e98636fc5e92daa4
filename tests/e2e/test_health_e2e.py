"""Health and metrics next to polling mode, and a webhook worker that is not configured."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.localtelegram import LocalTelegram
from tests.e2e.botprocess import bot_env, free_port, oprit, running_bot
from tests.e2e.conversation import TelegramUser


def _get(port: int, path: str) -> tuple[int, str]:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
                return int(answer.status), answer.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_polling_serves_health_and_metrics(api: LocalTelegram, tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(api.base_url, tmp_path, OPRIT_METRICS_LISTEN=f"127.0.0.1:{port}")
    with running_bot(env, tmp_path):
        assert _get(port, "/healthz") == (200, '{"status": "ok"}')
        stranger = TelegramUser(api, 7_600_001)
        stranger.send("hallo")
        stranger.wait_reply()
        status, body = _get(port, "/readyz")
        assert status == 200 and '"bot_api": true' in body
        _status, metrics = _get(port, "/metrics")
        assert "oprit_updates_received_total 1.0" in metrics
        assert 'oprit_updates_processed_total{result="ok"} 1.0' in metrics
        assert "oprit_update_processing_seconds_bucket" in metrics
        assert "oprit_outbox_due" in metrics


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({}, "OPRIT_WEBHOOK_URL, OPRIT_WEBHOOK_SECRET, OPRIT_WEBHOOK_LISTEN"),
        ({"OPRIT_WEBHOOK_SECRET": "short"}, "OPRIT_WEBHOOK_SECRET"),
        ({"OPRIT_WEBHOOK_URL": "not a url"}, "OPRIT_WEBHOOK_URL"),
    ],
)
def test_webhook_needs_its_settings(tmp_path: Path, extra: dict[str, str], fragment: str) -> None:
    env = bot_env("http://127.0.0.1:9/bot", tmp_path, **extra)
    result = oprit(env, tmp_path, "webhook")
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr
