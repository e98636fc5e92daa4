"""Application wiring: the runtime, the python-telegram-bot Application and the main loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

import handlers
from bot import crypto, flows, triage
from bot.channels.signal import handle as signal_handle
from bot.channels.signal import receive as signal_receive
from bot.channels.signal.rpc import SignalDaemon
from bot.channels.signal.send import SignalOutbound
from bot.channels.telegram import calls, web
from bot.channels.telegram.parse import parse
from bot.channels.telegram.polling import poll
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.conversation.flow import Audience
from bot.delivery.results import OutboundChannel
from bot.delivery.sender import OutboxSender
from bot.engine import failures, scheduler
from bot.engine.inbox import InboxProcessor
from bot.i18n import available_languages, use_language
from bot.runtime import Routing, Runtime, current_scope
from bot.services import downtime
from bot.web import app as dashboard_app
from db import keycheck, migrate, staff_queries, state
from db.enums import Channel
from db.errors import is_outage
from db.session import create_engine, session_factory
from db.types import bind_cipher

log = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
CONNECTIONS = 32
API_PING_AFTER = timedelta(seconds=30)


async def open_runtime(
    settings: Settings,
    clock: Clock | None = None,
    migration_step: Callable[[int], object] | None = None,
) -> Runtime:
    """Keys, database (checked against the keys, then migrated) and clock for one process.

    Refuses (EncryptionKeyError) when the configured keys cannot read the database, and
    never makes a new key file for a database that already holds encrypted data."""
    key_file = settings.data_dir / "oprit.key"
    keyring = crypto.load_keyring(settings.encryption_key, key_file)
    engine = create_engine(settings.database_url)
    clock = clock or SystemClock()
    try:
        stored_check = await keycheck.stored_check(engine)
        keyring = await _usable_keyring(engine, keyring, stored_check, settings, key_file)
        bind_cipher(engine, keyring)
        await migrate.upgrade(engine, keyring, on_step=migration_step)
        sessions = session_factory(engine)
        if stored_check is None:
            async with sessions() as session, session.begin():
                await keycheck.store_check(session, keyring.encrypt(keycheck.PLAIN), clock.now())
    except BaseException:
        await engine.dispose()
        raise
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        keyring=keyring,
        routing=Routing(settings.officer_chat_id),
    )


async def _usable_keyring(
    engine: AsyncEngine,
    keyring: crypto.Keyring | None,
    stored_check: str | None,
    settings: Settings,
    key_file: Path,
) -> crypto.Keyring:
    """The configured keyring if it reads this database; a new key file only for a
    database without encrypted data."""
    sample = stored_check or await keycheck.sample_token(engine)
    if keyring is None:
        if sample is not None:
            raise crypto.EncryptionKeyError(
                f"the key file {key_file} is missing, but the database holds encrypted data: "
                "restore the key file from your backup (or set OPRIT_ENCRYPTION_KEY); "
                "no new key was made"
            )
        return crypto.create_key_file(key_file)
    if sample is not None and not keyring.can_read(sample):
        where = "OPRIT_ENCRYPTION_KEY" if settings.encryption_key else f"the key file {key_file}"
        raise crypto.EncryptionKeyError(
            f"the key in {where} cannot read this database, which was encrypted with another "
            "key: configure the key it was made with (several keys, newest first, may be given)"
        )
    return keyring


async def _record_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hand a handler's exception back to the inbox processor, which rolls back."""
    with contextlib.suppress(RuntimeError):
        current_scope().failed = context.error


def build_application(
    settings: Settings, runtime: Runtime, request: BaseRequest | None = None
) -> AnyApplication:
    """One function builds the application: tests pass a request, production nothing."""
    if not settings.bot_token:
        raise ValueError("OPRIT_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .updater(None)
    )
    if request is not None:
        builder = builder.request(request)
    else:
        # Enough connections that a send never queues after it passed our rate limit
        # (a queue would bunch sends up and break the per-second ceiling at Telegram).
        builder = builder.connection_pool_size(CONNECTIONS).pool_timeout(30.0)
    application = builder.build()
    application.bot_data["runtime"] = runtime
    handlers.register_all(application)
    application.add_error_handler(_record_failure)
    return application


def inbox_processor(application: AnyApplication) -> InboxProcessor:
    """The processor that feeds stored updates through the application's handlers."""
    runtime: Runtime = application.bot_data["runtime"]

    async def handle(payload: dict[str, Any]) -> None:
        if "signal" in payload:
            await signal_handle.handle(payload)
            return
        update = Update.de_json(payload, application.bot)
        await application.process_update(update)

    async def handle_failure(payload: dict[str, Any], error: BaseException) -> None:
        if "signal" in payload:
            await signal_handle.handle_failure(payload, error)
            return
        scope = current_scope()
        await failures.record_failed_update(scope, parse(payload))
        query = payload.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("id"), str):
            query_id = query["id"]  # the press is stored; stop the client's spinner
            scope.after_commit.append(lambda: application.bot.answer_callback_query(query_id))

    return InboxProcessor(runtime, handle, handle_failure)


async def publish_commands(application: AnyApplication) -> None:
    """The command menus (from the flow registry): the participants' in every language we
    speak, and each staff member's own, with staff commands in their language. (Staff
    added while the bot runs get theirs at the next start.)"""
    runtime: Runtime = application.bot_data["runtime"]
    for language in available_languages():
        with use_language(language):
            commands = [BotCommand(name, text) for name, text in flows.command_menu()]
        await application.bot.set_my_commands(commands, language_code=language)
    with use_language(runtime.settings.default_language):
        await application.bot.set_my_commands(
            [BotCommand(name, text) for name, text in flows.command_menu()]
        )
    async with runtime.sessions() as session:
        staff = await staff_queries.reachable_on_telegram(session)
    for telegram_id, language in staff:
        with use_language(language):
            menu = [BotCommand(n, t) for n, t in flows.command_menu(Audience.STAFF)]
        try:
            await application.bot.set_my_commands(menu, scope=BotCommandScopeChat(telegram_id))
        except TelegramError as error:  # never opened the bot: no menu, nothing else lost
            log.info("no staff menu", extra={"error": type(error).__name__})


async def _downtime_notice(
    runtime: Runtime,
    processor: InboxProcessor,
    first_round: asyncio.Event,
    started: tuple[datetime, datetime | None],
) -> None:
    """After a long stop: once the backlog is handled, tell staff how long we were down."""
    back_at, down_since = started
    if down_since is None or back_at - down_since < downtime.NOTICE_AFTER:
        return
    await first_round.wait()
    try:
        await processor.process_pending()
        async with runtime.sessions() as session, session.begin():
            key = f"downtime_notice:{down_since.isoformat()}"[:64]
            if await state.compare_and_set(session, key, "sent", back_at):  # one worker
                await downtime.notify_staff(session, down_since, back_at, runtime.settings.tz)
    except Exception:
        log.exception("could not tell staff about the downtime")
        return
    runtime.wake_outbox()


def schedule_ticks(application: AnyApplication) -> None:
    """Wake the scheduler every OPRIT_SCHEDULER_TICK (the database says what is due)."""
    runtime: Runtime = application.bot_data["runtime"]

    async def run_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await scheduler.tick(runtime)
        except Exception as error:
            if is_outage(error):
                log.warning("database away; scheduler waits", extra={"error": type(error).__name__})
            else:
                log.exception("scheduler tick failed")

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        run_tick, interval=runtime.settings.scheduler_tick, first=1.0, name="scheduler"
    )


async def _keep_api_fresh(runtime: Runtime, bot: Bot, stop: asyncio.Event) -> None:
    """Ask Telegram something when nothing else did for a while, so /readyz knows."""
    while not stop.is_set():
        last = runtime.api_ok_at
        if last is None or runtime.clock.now() - last > API_PING_AFTER:
            try:
                await bot.get_me()
                runtime.api_ok_at = runtime.clock.now()
            except RetryAfter as error:  # flood control that names no chat: the whole bot
                wait = timedelta(seconds=calls.retry_after_seconds(error))
                runtime.flood.hold(None, runtime.clock.now() + wait)
            except TelegramError as error:
                log.warning("Bot API not reachable", extra={"error": type(error).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=API_PING_AFTER.total_seconds())


def signal_channel(runtime: Runtime) -> SignalDaemon | None:
    """The Signal daemon's client when OPRIT_SIGNAL_URL is set (else no Signal at all)."""
    settings = runtime.settings
    if not settings.signal_url:
        return None
    return SignalDaemon(settings.signal_url, settings.signal_account)


async def serve(
    settings: Settings,
    *,
    webhook: bool = False,
    reset: bool = False,
    clock: Clock | None = None,
    alongside: Callable[[Runtime], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """`oprit run` (long polling) or `oprit webhook`: migrate, then receive, process and
    send until SIGTERM/SIGINT. A webhook worker never deletes the webhook on the way out.
    `alongside` runs beside the bot once it receives (a command that embeds the bot, such as
    `oprit demo`, gets the runtime there); it is cancelled when the bot stops."""
    runtime = await open_runtime(settings, clock)
    application = build_application(settings, runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with runtime.sessions() as session:
        down_since = await downtime.last_heartbeat(session)
    started = runtime.clock.now(), down_since
    servers = []
    async with application:
        runtime.bot_username = application.bot.username
        runtime.api_ok_at = runtime.clock.now()
        async with runtime.sessions() as session, session.begin():
            await state.put(session, "bot_username", runtime.bot_username, runtime.clock.now())
        await application.start()
        await publish_commands(application)
        schedule_ticks(application)
        processor = inbox_processor(application)
        telegram = calls.TelegramOutbound(application.bot, runtime.keyring)
        channels: dict[str, OutboundChannel] = {Channel.TELEGRAM: telegram}
        signal_daemon = signal_channel(runtime)
        if signal_daemon is not None:
            channels[Channel.SIGNAL] = SignalOutbound(runtime, signal_daemon)
        sender = OutboxSender(runtime, channels)
        first_round = asyncio.Event()
        triage.prepare()
        # What was built while starting lives until the end: keep it out of the garbage
        # collector's full scans, which would pause the event loop in the middle of sends.
        gc.collect()
        gc.freeze()
        tasks = [
            asyncio.create_task(processor.run(stop), name="inbox"),
            asyncio.create_task(sender.run(stop), name="outbox"),
            asyncio.create_task(_keep_api_fresh(runtime, application.bot, stop), name="ping"),
        ]
        if webhook:
            assert settings.webhook_url and settings.webhook_secret and settings.webhook_listen
            hook = (web.webhook_path(settings.webhook_url), settings.webhook_secret, processor.wake)
            servers.append(await web.serve(web.make_app(runtime, hook), settings.webhook_listen))
            await application.bot.set_webhook(
                url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
                drop_pending_updates=reset,
            )
            first_round.set()  # Telegram pushes what it kept while we were down
        else:
            await application.bot.delete_webhook(drop_pending_updates=False)
            tasks.append(
                asyncio.create_task(
                    poll(runtime, application.bot, processor, stop, first_round), name="poll"
                )
            )
        if signal_daemon is not None:
            tasks.append(
                asyncio.create_task(
                    signal_receive.listen(runtime, signal_daemon, processor, stop), name="signal"
                )
            )
        if settings.metrics_listen and settings.metrics_listen != settings.webhook_listen:
            servers.append(await web.serve(web.make_app(runtime), settings.metrics_listen))
        dashboard = (
            await dashboard_app.start(runtime, settings.web_listen) if settings.web_listen else None
        )
        log.info(
            "started", extra={"worker": runtime.worker, "mode": "webhook" if webhook else "polling"}
        )
        notice = asyncio.create_task(
            _downtime_notice(runtime, processor, first_round, started), name="downtime"
        )
        beside = asyncio.create_task(alongside(runtime)) if alongside is not None else None
        stopper = asyncio.create_task(stop.wait())
        done, _pending = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        for server in servers:
            server.stop()
        if dashboard is not None:
            await dashboard.cleanup()
        for task in tasks:
            if task not in done:
                task.cancel()
        notice.cancel()
        if beside is not None:  # it may be in a transaction: let it roll back first
            beside.cancel()
            await asyncio.gather(beside, return_exceptions=True)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await application.stop()
    if signal_daemon is not None:
        await signal_daemon.close()
    await runtime.engine.dispose()
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
