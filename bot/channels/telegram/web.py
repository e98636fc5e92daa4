"""The HTTP side: the Telegram webhook, and /healthz, /readyz and /metrics.

The webhook stores an update in the inbox *before* it answers 200, so Telegram retries
anything that was not stored. A missing or wrong secret token gets 403 and is logged
without the body. Built on tornado, which python-telegram-bot's webhook extra brings.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import tornado.httpserver
import tornado.web

from bot.channels.telegram.parse import chat_and_text
from bot.config import ListenAddress
from bot.engine import inbox
from bot.runtime import Runtime
from db import migrate

log = logging.getLogger(__name__)

API_FRESH = timedelta(minutes=1)
AUTH_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class _Base(tornado.web.RequestHandler):
    """Quiet handlers: no access logs with paths or bodies."""

    runtime: Runtime

    def initialize(self, runtime: Runtime, **extra: Any) -> None:
        self.runtime = runtime
        for name, value in extra.items():
            setattr(self, name, value)

    def data_received(self, chunk: bytes) -> None:
        """Bodies are read whole (updates are small)."""

    def log_exception(self, *args: Any) -> None:
        log.error("web request failed", extra={"path": self.request.path.split("/")[1][:20]})


class WebhookHandler(_Base):
    """POST from Telegram: check the secret, store the update, then answer 200."""

    secret: str
    on_stored: Callable[[bool], None]

    async def post(self) -> None:
        given = self.request.headers.get(AUTH_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.runtime.metrics.webhook_refused.labels("secret").inc()
            log.warning("webhook request with a wrong or missing secret token")
            self.set_status(403)
            return
        try:
            update = json.loads(self.request.body)
            int(update["update_id"])
        except (ValueError, KeyError, TypeError):
            self.runtime.metrics.webhook_refused.labels("body").inc()
            log.warning("webhook request with a body that is not an update")
            self.set_status(400)
            return
        async with self.runtime.sessions() as session, session.begin():
            new, urgent = await inbox.store(
                session, [update], self.runtime.clock.now(), chat_and_text
            )
        self.runtime.metrics.updates_received.inc(new)
        self.on_stored(urgent)
        self.set_status(200)


class HealthHandler(_Base):
    """/healthz: the process answers."""

    async def get(self) -> None:
        self.write({"status": "ok"})


class ReadyHandler(_Base):
    """/readyz: database reachable, schema current, Bot API answered within a minute."""

    async def get(self) -> None:
        checks: dict[str, bool] = {}
        try:
            revision = await migrate.current(self.runtime.engine)
            checks["database"] = True
            checks["migrations"] = revision == migrate.head()
        except Exception:
            checks["database"] = checks["migrations"] = False
        last = self.runtime.api_ok_at
        checks["bot_api"] = last is not None and self.runtime.clock.now() - last <= API_FRESH
        self.set_status(200 if all(checks.values()) else 503)
        self.write({"ready": all(checks.values()), "checks": checks})


class MetricsHandler(_Base):
    """/metrics in the Prometheus text format."""

    async def get(self) -> None:
        self.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.write(self.runtime.metrics.render())


def make_app(
    runtime: Runtime, webhook: tuple[str, str, Callable[[bool], None]] | None = None
) -> tornado.web.Application:
    """The routes; `webhook` is (path, secret, what to call once an update is stored)."""
    routes: list[Any] = [
        (r"/healthz", HealthHandler, {"runtime": runtime}),
        (r"/readyz", ReadyHandler, {"runtime": runtime}),
        (r"/metrics", MetricsHandler, {"runtime": runtime}),
    ]
    if webhook is not None:
        path, secret, on_stored = webhook
        routes.append(
            (
                re.escape(path),
                WebhookHandler,
                {"runtime": runtime, "secret": secret, "on_stored": on_stored},
            )
        )
    return tornado.web.Application(routes, log_function=lambda handler: None)


def webhook_path(url: str) -> str:
    """The path part of OPRIT_WEBHOOK_URL, where Telegram will post."""
    return urlsplit(url).path or "/"


async def serve(
    app: tornado.web.Application, listen: ListenAddress
) -> tornado.httpserver.HTTPServer:
    """Start listening; the caller stops the returned server."""
    server = tornado.httpserver.HTTPServer(app, xheaders=True, max_body_size=20 * 1024 * 1024)
    server.listen(listen.port, address=listen.host)
    log.info("http listening", extra={"port": listen.port})
    return server
