"""`oprit demo`: the local Telegram, the real bot against it (polling, its own SQLite
database and key in data/), invented data, and the page of phones with its control API.

The bot is started exactly as `oprit run` starts it (bot.app.serve); the only differences
are settings (OPRIT_TELEGRAM_API_URL points at the local Telegram) and the injected demo
clock. Ctrl-C stops the bot first, then the page, then the local Telegram."""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from bot import crypto
from bot.app import serve
from bot.config import CheckinSchedule, ListenAddress, Settings
from bot.demo import api, page
from bot.demo.clock import DemoClock
from bot.demo.seed import seed
from bot.demo.world import COORDINATOR_ID, GROUP_ID, OFFICER_ID, DemoWorld
from bot.localtelegram import LocalTelegram
from bot.runtime import Runtime
from bot.services import web_login

log = logging.getLogger(__name__)

DEFAULT_LISTEN = ListenAddress("127.0.0.1", 8080)
DASHBOARD = ListenAddress("127.0.0.1", 8081)
DASHBOARD_AS = {"officer": OFFICER_ID, "coordinator": COORDINATOR_ID}
EVERY_DAY_AT_TEN = "mon,tue,wed,thu,fri,sat,sun 10:00"


def demo_files(data_dir: Path) -> tuple[Path, Path]:
    """The demo's database and key, beside (never in place of) the real ones. The local
    Telegram keeps its chats in memory, so each start begins afresh: the old demo
    database and key are removed and the invented data is made again."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database, key_file = data_dir / "demo.db", data_dir / "demo.key"
    for old in (database, key_file, data_dir / "demo.db-wal", data_dir / "demo.db-shm"):
        old.unlink(missing_ok=True)
    crypto.create_key_file(key_file)
    return database, key_file


def demo_settings(
    telegram: LocalTelegram, database: Path, key_file: Path, dashboard: ListenAddress
) -> Settings:
    """The settings of `oprit run`, pointed at the local Telegram and the demo database,
    serving the staff dashboard as `OPRIT_WEB_LISTEN` would."""
    return Settings(
        bot_token=telegram.token,
        telegram_api_url=telegram.base_url,
        database_url=f"sqlite+aiosqlite:///{database}",
        encryption_key=",".join(crypto.keys_in_file(key_file)),
        officer_chat_id=GROUP_ID,
        # A prompt every day at 10:00, so "tomorrow 10:00" always shows one.
        checkin_schedule=CheckinSchedule.parse(EVERY_DAY_AT_TEN),
        scheduler_tick=timedelta(seconds=5),
        webhook_url=None,
        webhook_secret=None,
        webhook_listen=None,
        metrics_listen=None,
        web_listen=dashboard,
        web_public_url=None,
    )


def dashboard_address() -> ListenAddress:
    """127.0.0.1:8081 as `oprit web` would use, or any free port when that one is taken
    (the demo must start whatever else runs on the machine)."""
    with socket.socket() as probe:
        try:
            probe.bind((DASHBOARD.host, DASHBOARD.port))
        except OSError:
            probe.bind((DASHBOARD.host, 0))
        return ListenAddress(DASHBOARD.host, probe.getsockname()[1])


async def status(request: web.Request) -> web.Response:
    """GET /api/status: whether the invented data is in place, and where the page opens
    the dashboard (as the officer; `?as=coordinator` for the coordinator)."""
    ready = request.app[api.WORLD].ready.is_set()
    return web.json_response({"ready": ready, "dashboard": "/dashboard" if ready else None})


async def open_dashboard(request: web.Request) -> web.Response:
    """GET /dashboard[?as=coordinator]: a one-time login link for the demo's officer (or
    coordinator), exactly as `/dashboard` in the bot makes one, and on to it."""
    world = request.app[api.WORLD]
    telegram_id = DASHBOARD_AS.get(request.query.get("as", "officer"))
    if telegram_id is None:
        raise web.HTTPBadRequest(text="as: officer or coordinator")
    runtime = world.runtime
    if runtime is None or not world.ready.is_set():
        raise web.HTTPServiceUnavailable(text="the demo is still starting")
    async with runtime.sessions() as session, session.begin():
        link = await web_login.link_for_telegram_id(
            session, telegram_id, runtime.clock.now(), runtime.settings
        )
    raise web.HTTPFound(link.url)


def make_app(world: DemoWorld) -> web.Application:
    """The page and the control API."""
    app = web.Application(client_max_size=api.MAX_BODY_BYTES)
    app[api.WORLD] = world
    api.add_routes(app)
    page.add_routes(app)
    app.router.add_get("/api/status", status)
    app.router.add_get("/dashboard", open_dashboard)
    return app


def hold_signals() -> threading.Event:
    """Until the bot takes over SIGINT and SIGTERM (once it runs), a Ctrl-C is remembered
    and handed to it then: cancelling the start half-way would leave SQLite threads behind
    and the process hanging. Call before the event loop starts."""
    requested = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, frame: requested.set())
    return requested


async def run(
    listen: ListenAddress = DEFAULT_LISTEN,
    data_dir: Path = Path("data"),
    early_stop: threading.Event | None = None,
) -> None:
    """Run the demo until SIGINT/SIGTERM (`early_stop`: one that came before the bot ran)."""
    database, key_file = demo_files(data_dir)
    with LocalTelegram(bot_username="oprit_demo_bot") as telegram:
        world = DemoWorld(telegram, DemoClock())
        runner = web.AppRunner(make_app(world), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, listen.host, listen.port).start()
            host = f"[{listen.host}]" if ":" in listen.host else listen.host
            print(
                f"Oprit demo: open http://{host}:{listen.port}/ in your browser (Ctrl-C stops it)",
                file=sys.stderr,
                flush=True,
            )

            async def started(runtime: Runtime) -> None:
                if early_stop is not None and early_stop.is_set():
                    signal.raise_signal(signal.SIGINT)
                    return
                world.runtime = runtime
                try:
                    await seed(world)
                except Exception:
                    log.exception("demo data could not be made")
                world.ready.set()

            settings = demo_settings(telegram, database, key_file, dashboard_address())
            await serve(settings, clock=world.clock, alongside=started)
        finally:
            await runner.cleanup()
