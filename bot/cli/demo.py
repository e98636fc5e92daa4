"""`oprit demo`: the whole product on this machine, without a bot token."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from bot import logs
from bot.cli.common import EXIT_USAGE, AddCommand, CliError
from bot.config import ListenAddress, Settings

LISTEN_DEFAULT = "127.0.0.1:8080"


def listen_address(value: str) -> ListenAddress:
    """A `host:port` option."""
    try:
        return ListenAddress.parse(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def demo(settings: Settings, args: argparse.Namespace) -> int:
    """The local Telegram, the bot, invented data and the page of phones, until Ctrl-C."""
    from bot.demo import server  # loaded when used: other commands start faster

    early_stop = server.hold_signals()
    logs.configure(logging.WARNING)
    # A long time-travel step makes APScheduler say a tick "was missed": expected here.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    try:
        asyncio.run(server.run(args.listen, early_stop=early_stop))
    except OSError as error:
        if error.errno is not None and "address" in str(error).lower():
            raise CliError(
                f"cannot listen on {args.listen.host}:{args.listen.port} ({error.strerror}); "
                "choose another with --listen 127.0.0.1:PORT",
                EXIT_USAGE,
            ) from None
        raise
    return 0


def register(commands: Any, command: AddCommand) -> None:
    """`oprit demo`."""
    sub = command(
        commands,
        "demo",
        demo,
        "try Oprit without a bot token: a local Telegram, invented people and a web page "
        "of phones (data/demo.db)",
    )
    sub.add_argument(
        "--listen",
        type=listen_address,
        default=listen_address(LISTEN_DEFAULT),
        help=f"where the page is served (default {LISTEN_DEFAULT})",
    )
