"""The dashboard's aiohttp application: routes, security headers, and serving it on its
own (`oprit web`) or inside the bot's process (`oprit run` / `oprit webhook` with
OPRIT_WEB_LISTEN set).

aiohttp because the project already speaks it (the tests' fake Bot API and the local
Telegram are aiohttp servers): one HTTP stack, async like the rest, no ASGI server to add.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from bot.config import ListenAddress
from bot.runtime import Runtime
from bot.web import render
from bot.web.views import alerts, broadcasts, caseload, login, participant, report, tasks, team

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 8 * 1024 * 1024  # a 5 MB paste is refused by the page, not by a broken socket
# Everything from this server, nothing inline, no frames: a script that slipped into a
# page would not run, and the page could not send data elsewhere.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers every answer carries; pages are never cached (they hold personal data)."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        _protect(request, error)
        raise
    _protect(request, response)
    return response


def _protect(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/dashboard/static/"):
        response.headers["Cache-Control"] = "no-store"


async def to_dashboard(request: web.Request) -> web.StreamResponse:
    """`/` and `/dashboard`: the caseload."""
    raise web.HTTPFound("/dashboard/")


def make_app(runtime: Runtime) -> web.Application:
    """The dashboard's routes, all under /dashboard/ so a proxy forwards one prefix."""
    app = web.Application(middlewares=[security_headers], client_max_size=MAX_BODY)
    app[render.RUNTIME] = runtime
    app[render.ENVIRONMENT] = render.environment()
    app.router.add_get("/", to_dashboard)
    app.router.add_get("/dashboard", to_dashboard)
    app.router.add_get("/dashboard/", caseload.caseload)
    app.router.add_get("/dashboard/login", login.login_help)
    app.router.add_get("/dashboard/login/{token}", login.login_form)
    app.router.add_post("/dashboard/login/{token}", login.login)
    app.router.add_post("/dashboard/logout", login.logout)
    app.router.add_get("/dashboard/alerts", alerts.alerts)
    app.router.add_get("/dashboard/team", team.team)
    app.router.add_get("/dashboard/tasks", tasks.tasks)
    app.router.add_get("/dashboard/report", report.report_page)
    app.router.add_get("/dashboard/report/{format}", report.report_file)
    app.router.add_post("/dashboard/alerts/{id}/{action}", participant.alert)
    app.router.add_get("/dashboard/participants/{id}", participant.participant)
    app.router.add_post("/dashboard/participants/{id}/reply", participant.reply)
    app.router.add_post("/dashboard/participants/{id}/pause", participant.pause)
    app.router.add_post("/dashboard/participants/{id}/resume", participant.resume)
    app.router.add_post("/dashboard/participants/{id}/appointments", participant.appointment)
    app.router.add_post("/dashboard/participants/{id}/invite", participant.invite)
    app.router.add_post("/dashboard/participants/{id}/export", participant.export)
    app.router.add_post("/dashboard/participants/{id}/tasks/{task}/done", participant.task_done)
    app.router.add_get("/dashboard/participants/{id}/media/{message}", participant.media_file)
    app.router.add_get("/dashboard/broadcasts", broadcasts.broadcasts)
    app.router.add_post("/dashboard/broadcasts", broadcasts.create)
    app.router.add_post("/dashboard/broadcasts/{id}/cancel", broadcasts.cancel)
    app.router.add_get("/dashboard/api/changes", participant.changes)
    app.router.add_get("/dashboard/api/broadcasts", broadcasts.changes)
    app.router.add_static("/dashboard/static/", STATIC, follow_symlinks=False)
    return app


async def start(runtime: Runtime, listen: ListenAddress) -> web.AppRunner:
    """Listen; the caller awaits `runner.cleanup()` to stop."""
    runner = web.AppRunner(make_app(runtime), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, listen.host, listen.port)
    await site.start()
    log.info("dashboard listening", extra={"port": listen.port})
    return runner


async def serve_alone(runtime: Runtime, listen: ListenAddress) -> None:
    """`oprit web`: the dashboard until SIGTERM/SIGINT. Replies it queues are sent by the
    bot process (`oprit run` or the webhook workers) at their next outbox round."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = await start(runtime, listen)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
