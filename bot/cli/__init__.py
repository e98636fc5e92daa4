"""The `oprit` command line (also `python -m bot`): a parser here, the commands in one
module per job (serve, demo, setup, people, plans, records).

Every command that prints data accepts --json and then prints exactly one JSON document.
Expected errors print one sentence to stderr and exit non-zero, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from bot.cli import demo, people, plan, plans, records, report, serve, setup
from bot.cli.common import EXIT_FAILURE, EXIT_USAGE, CliError, Handler, Parser
from bot.config import ConfigError, load_settings
from bot.crypto import EncryptionKeyError
from bot.report import ReportError
from bot.services.admin import AdminError
from bot.services.appointments import AppointmentError
from bot.services.broadcasts import BroadcastError
from bot.services.enrolment import EnrolmentError
from bot.services.invites import InviteError
from bot.services.letter import LetterError
from bot.services.plan import PlanError
from bot.services.privacy import PrivacyError
from bot.services.web_login import LoginError

__all__ = ["EXIT_FAILURE", "EXIT_USAGE", "build_parser", "main"]

EXPECTED_ERRORS = (
    CliError,
    ConfigError,
    EncryptionKeyError,
    AdminError,
    InviteError,
    AppointmentError,
    BroadcastError,
    PrivacyError,
    EnrolmentError,
    PlanError,
    LetterError,
    LoginError,
    ReportError,
)


def build_parser() -> argparse.ArgumentParser:
    """All subcommands of `oprit`."""
    parser = Parser(prog="oprit", description="Oprit: chat assistant for re-integration officers")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def command(group: Any, name: str, handler: Handler, text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, help=text, description=text)
        sub.add_argument("--json", action="store_true", help="print one JSON document")
        sub.set_defaults(handler=handler)
        return sub

    for module in (serve, demo, setup, people, plans, plan, records, report):
        module.register(commands, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `oprit` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return int(args.handler(settings, args))
    except EXPECTED_ERRORS as error:
        print(f"oprit: {error}", file=sys.stderr)
        return getattr(
            error, "code", EXIT_FAILURE if not isinstance(error, ConfigError) else EXIT_USAGE
        )
    except (OperationalError, DBAPIError, OSError) as error:
        print(f"oprit: cannot use the database: {_database_reason(error)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def _database_reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).splitlines()[0] if str(original) else type(original).__name__
    return text[:200]
