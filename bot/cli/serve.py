"""`oprit run` and `oprit webhook`: the bot itself."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot import logs
from bot.cli import demo
from bot.cli.common import EXIT_USAGE, AddCommand, CliError
from bot.config import DEFAULT_WEB_LISTEN, ListenAddress, Settings

BOTFATHER_HELP = (
    "OPRIT_BOT_TOKEN is not set. Create a bot by talking to @BotFather in Telegram "
    "(send /newbot), copy the token it gives you, then run: "
    "export OPRIT_BOT_TOKEN='123456:ABC...' (or put OPRIT_BOT_TOKEN=... in a .env file) "
    "and start again."
)
REFUSED_HELP = "Telegram refused OPRIT_BOT_TOKEN; check it with @BotFather (/mybots → API Token)"


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Long polling until stopped; with --demo-without-token (`make run`) the demo when no
    token is configured."""
    if args.demo_without_token and not settings.bot_token:
        print(
            "oprit: no OPRIT_BOT_TOKEN, so this starts the demo (a local Telegram with "
            "invented people). To run the real bot, see the README.",
            file=sys.stderr,
        )
        return demo.demo(settings, args)
    return _serve(settings, webhook=False, reset=False)


def webhook(settings: Settings, args: argparse.Namespace) -> int:
    """A webhook worker; several may run on one PostgreSQL database."""
    if not settings.bot_token:
        raise CliError(BOTFATHER_HELP, EXIT_USAGE)
    missing = [
        name
        for name, value in (
            ("OPRIT_WEBHOOK_URL", settings.webhook_url),
            ("OPRIT_WEBHOOK_SECRET", settings.webhook_secret),
            ("OPRIT_WEBHOOK_LISTEN", settings.webhook_listen),
        )
        if not value
    ]
    if missing:
        raise CliError(f"webhook mode needs {', '.join(missing)} (see docs/deploy.md)", EXIT_USAGE)
    return _serve(settings, webhook=True, reset=args.reset)


def _serve(settings: Settings, *, webhook: bool, reset: bool) -> int:
    if not settings.bot_token:
        raise CliError(BOTFATHER_HELP, EXIT_USAGE)
    from telegram.error import InvalidToken  # loaded when used: commands start faster

    from bot.app import serve

    logs.configure()
    try:
        asyncio.run(serve(settings, webhook=webhook, reset=reset))
    except InvalidToken:
        raise CliError(REFUSED_HELP, EXIT_USAGE) from None
    return 0


def web(settings: Settings, args: argparse.Namespace) -> int:
    """The dashboard on its own, on OPRIT_WEB_LISTEN (default 127.0.0.1:8081)."""
    from bot.app import open_runtime
    from bot.web.app import serve_alone

    listen = settings.web_listen or ListenAddress.parse(DEFAULT_WEB_LISTEN)

    async def main() -> None:
        runtime = await open_runtime(settings)
        try:
            await serve_alone(runtime, listen)
        finally:
            await runtime.engine.dispose()

    logs.configure()
    asyncio.run(main())
    return 0


def register(commands: Any, command: AddCommand) -> None:
    """`oprit run`, `oprit webhook`, `oprit web`."""
    polling = command(commands, "run", run, "run the bot with long polling (migrates first)")
    polling.add_argument(
        "--demo-without-token",
        action="store_true",
        help="start `oprit demo` instead when OPRIT_BOT_TOKEN is not set (what `make run` does)",
    )
    polling.add_argument(
        "--listen",
        type=demo.listen_address,
        default=demo.listen_address(demo.LISTEN_DEFAULT),
        help=f"with --demo-without-token: where the demo's page is served "
        f"(default {demo.LISTEN_DEFAULT})",
    )
    command(commands, "web", web, "serve the staff dashboard (OPRIT_WEB_LISTEN)")
    hook = command(commands, "webhook", webhook, "run a webhook worker")
    hook.add_argument(
        "--reset", action="store_true", help="drop the updates Telegram kept (never by default)"
    )
