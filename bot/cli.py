"""The `oprit` command line (also `python -m bot`).

Every command that prints data accepts --json and then prints exactly one JSON document.
Expected errors print one sentence to stderr and exit non-zero, without a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import admin, crypto, logs, registration
from bot.appointments import AppointmentError
from bot.broadcasts import BroadcastError
from bot.config import ConfigError, Settings, load_settings, parse_duration
from bot.crypto import EncryptionKeyError
from bot.i18n import available_languages
from bot.privacy import PrivacyError
from bot.runtime import Runtime

EXIT_USAGE = 2
EXIT_FAILURE = 1

BOTFATHER_HELP = (
    "OPRIT_BOT_TOKEN is not set. Create a bot by talking to @BotFather in Telegram "
    "(send /newbot), copy the token it gives you, then run: "
    "export OPRIT_BOT_TOKEN='123456:ABC...' (or put OPRIT_BOT_TOKEN=... in a .env file) "
    "and start again."
)


class CliError(Exception):
    """An error the person at the keyboard can fix; printed as one sentence."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"oprit: {message} (see 'oprit {self._subcommand()} --help')\n")

    def _subcommand(self) -> str:
        return " ".join(self.prog.split()[1:]) or "--help"


def _print(data: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(human(data))


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    widths = [
        max(len(c), *(len(str(r.get(c) if r.get(c) is not None else "-")) for r in rows))
        for c in columns
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    for row in rows:
        cells = [str(row.get(c) if row.get(c) is not None else "-") for c in columns]
        lines.append("  ".join(v.ljust(w) for v, w in zip(cells, widths, strict=True)))
    return "\n".join(lines)


async def _with_database(
    settings: Settings, work: Callable[[Runtime, AsyncSession], Awaitable[Any]]
) -> Any:
    """Open the database (migrating it to the newest schema) and run `work` in one transaction."""
    from bot.app import open_runtime

    runtime = await open_runtime(settings)
    try:
        async with runtime.sessions() as session, session.begin():
            return await work(runtime, session)
    finally:
        await runtime.engine.dispose()


async def _bot_username(settings: Settings, session: AsyncSession) -> str:
    from db import state

    stored = await state.get(session, "bot_username")
    if stored:
        return stored
    if not settings.bot_token:
        raise CliError(
            "the bot's username is not known yet: set OPRIT_BOT_TOKEN or start the bot once "
            "with 'make run', so the invite link can name the bot"
        )
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(settings.bot_token, base_url=settings.telegram_api_url) as bot:
            username = bot.username
    except TelegramError as error:
        raise CliError(f"could not ask Telegram for the bot's name: {error}") from None
    return username


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Long polling until stopped."""
    if not settings.bot_token:
        raise CliError(BOTFATHER_HELP, EXIT_USAGE)
    from telegram.error import InvalidToken

    from bot.app import serve

    logs.configure()
    try:
        asyncio.run(serve(settings))
    except InvalidToken:
        raise CliError(
            "Telegram refused OPRIT_BOT_TOKEN; check it with @BotFather (/mybots → API Token)",
            EXIT_USAGE,
        ) from None
    return 0


def cmd_webhook(settings: Settings, args: argparse.Namespace) -> int:
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
    from telegram.error import InvalidToken

    from bot.app import serve

    logs.configure()
    try:
        asyncio.run(serve(settings, webhook=True, reset=args.reset))
    except InvalidToken:
        raise CliError(
            "Telegram refused OPRIT_BOT_TOKEN; check it with @BotFather (/mybots → API Token)",
            EXIT_USAGE,
        ) from None
    return 0


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Bring the database schema to the newest version."""
    from db import migrate

    async def work(runtime: Runtime, session: AsyncSession) -> str | None:
        return await migrate.current(runtime.engine)

    revision = asyncio.run(_with_database(settings, work))
    _print({"revision": revision}, args.json, lambda d: f"database is at revision {d['revision']}")
    return 0


def cmd_db_current(settings: Settings, args: argparse.Namespace) -> int:
    """Show the schema revision without changing anything."""
    from db import migrate
    from db.session import create_engine

    async def read() -> tuple[str | None, str | None]:
        engine = create_engine(settings.database_url)
        try:
            return await migrate.current(engine), migrate.head()
        finally:
            await engine.dispose()

    revision, head = asyncio.run(read())
    data = {"revision": revision, "head": head, "up_to_date": revision == head}
    _print(
        data,
        args.json,
        lambda d: (
            f"revision {d['revision'] or '(none)'}"
            + ("" if d["up_to_date"] else f"; newest is {d['head']}: run 'oprit db upgrade'")
        ),
    )
    return 0


def cmd_staff_add(settings: Settings, args: argparse.Namespace) -> int:
    """Add an officer or coordinator."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        staff = await admin.add_staff(
            session,
            telegram_id=args.telegram_id,
            role=args.role,
            name=args.name,
            backup=args.backup,
            language=settings.default_language,
            now=runtime.clock.now(),
            officer_group=settings.officer_chat_id,
        )
        return {"id": staff.id, "telegram_id": staff.telegram_id, "role": staff.role}

    data = asyncio.run(_with_database(settings, work))
    _print(
        data,
        args.json,
        lambda d: (
            f"added {d['role']} (staff id {d['id']}); ask them to open the bot and "
            "send /start so it can message them"
        ),
    )
    return 0


def cmd_staff_list(settings: Settings, args: argparse.Namespace) -> int:
    """List staff and whether the bot can reach them."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        return await admin.list_staff(session)

    rows = asyncio.run(_with_database(settings, work))
    _print(
        rows,
        args.json,
        lambda r: _table(r, ("id", "telegram_id", "role", "name", "backup", "status")),
    )
    return 0


def cmd_invite_create(settings: Settings, args: argparse.Namespace) -> int:
    """Make a single-use invite code and link."""
    valid_for = _duration_arg(args.expires, "--expires")

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        invite = await registration.create_invite(
            session,
            now=runtime.clock.now(),
            valid_for=valid_for,
            officer_telegram_id=args.officer,
            name=args.name,
            language=args.language,
        )
        return {
            "code": invite.code,
            "link": invite.link(await _bot_username(settings, session)),
            "expires_at": invite.expires_at.isoformat(),
        }

    data = asyncio.run(_with_database(settings, work))
    _print(
        data, args.json, lambda d: f"{d['link']}\ncode {d['code']}, valid until {d['expires_at']}"
    )
    return 0


def cmd_participants_list(settings: Settings, args: argparse.Namespace) -> int:
    """The participant overview."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        return await admin.list_participants(session, runtime.clock.now())

    rows = asyncio.run(_with_database(settings, work))
    columns = (
        "id",
        "name",
        "language",
        "status",
        "last_checkin_at",
        "open_help_requests",
        "next_appointment_at",
    )
    _print(rows, args.json, lambda r: _table(r, columns))
    return 0


def cmd_appointment_add(settings: Settings, args: argparse.Namespace) -> int:
    """Plan an appointment; reminders are made from OPRIT_REMINDER_OFFSETS."""
    from bot import appointments

    try:
        at = appointments.parse_local_time(args.at, settings.tz)
    except appointments.AppointmentError as error:
        raise CliError(f"--at: {error}", EXIT_USAGE) from None

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        made = await appointments.create(
            session,
            args.participant,
            at=at,
            with_org=args.with_org,
            location=args.location,
            note=args.note,
            offsets=settings.reminder_offsets,
            zone=settings.tz,
            now=runtime.clock.now(),
        )
        return {
            "id": made.appointment.id,
            "participant": args.participant,
            "at": made.appointment.at.isoformat(),
            "reminders": [moment.isoformat() for moment in made.reminder_times],
        }

    data = asyncio.run(_with_database(settings, work))
    _print(
        data,
        args.json,
        lambda d: (
            f"appointment {d['id']} at {d['at']}; reminders at "
            + (", ".join(d["reminders"]) or "(none: too soon)")
        ),
    )
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """Everything stored about one participant, decrypted (audited)."""
    from bot import export
    from db import people

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        document = await export.export_participant(session, args.participant)
        if document is None:
            raise CliError(f"no participant with id {args.participant}")
        people.audit(
            session, "export", actor="cli", participant_id=args.participant, at=runtime.clock.now()
        )
        return document

    document = asyncio.run(_with_database(settings, work))
    print(json.dumps(document, ensure_ascii=False, indent=None if args.json else 2))
    return 0


def cmd_triage(settings: Settings, args: argparse.Namespace) -> int:
    """JSON lines in, one verdict per line out (a bad line gets an error line)."""
    from bot import triage

    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError
        except ValueError:
            print(json.dumps({"error": f'line {number} is not {{"text": ..., "lang": ...}}'}))
            continue
        given = item.get("lang")
        lang = given if isinstance(given, str) else settings.default_language
        print(json.dumps(triage.classify(item["text"], lang).to_dict(), ensure_ascii=False))
    return 0


def cmd_broadcast_send(settings: Settings, args: argparse.Namespace) -> int:
    """Queue a broadcast; the running bot delivers it."""
    from bot import appointments, broadcasts

    texts = {settings.default_language: args.text}
    for language in available_languages():
        extra = getattr(args, f"text_{language}", None)
        if extra is not None:
            texts[language] = extra
    try:
        send_at = appointments.parse_local_time(args.at, settings.tz) if args.at else None
    except appointments.AppointmentError as error:
        raise CliError(f"--at: {error}", EXIT_USAGE) from None

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        now = runtime.clock.now()
        broadcast, audience = await broadcasts.create(
            session,
            texts=texts,
            cohort=args.cohort,
            send_at=send_at or now,
            default_language=settings.default_language,
            now=now,
        )
        return {"id": broadcast.id, "recipients": audience}

    data = asyncio.run(_with_database(settings, work))
    _print(data, args.json, lambda d: f"broadcast {d['id']} queued for {d['recipients']} people")
    return 0


def cmd_broadcast_status(settings: Settings, args: argparse.Namespace) -> int:
    """Delivery counts of one broadcast."""
    from bot import broadcasts
    from db import broadcasts as broadcasts_db

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, int]:
        broadcast = await broadcasts_db.by_id(session, args.id)
        if broadcast is None:
            raise CliError(f"no broadcast with id {args.id}")
        return (await broadcasts.report(session, broadcast)).as_dict()

    data = asyncio.run(_with_database(settings, work))
    _print(
        data,
        args.json,
        lambda d: (
            "broadcast {id}: {recipients} recipients, {sent} sent, {failed} failed, "
            "{blocked} blocked, {pending} pending".format(**d)
        ),
    )
    return 0


def cmd_staff_remove(settings: Settings, args: argparse.Namespace) -> int:
    """Remove a staff member's access."""

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        staff = await admin.remove_staff(
            session, args.telegram_id, runtime.clock.now(), settings.officer_chat_id
        )
        return {"id": staff.id, "telegram_id": staff.telegram_id, "active": staff.active}

    data = asyncio.run(_with_database(settings, work))
    _print(data, args.json, lambda d: f"staff {d['id']} removed; their access ended now")
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    """Print the audit log."""
    since = None
    if args.since:
        try:
            since = datetime.now(UTC) - parse_duration(args.since)
        except ValueError:
            from bot import appointments

            try:
                since = appointments.parse_local_time(args.since, settings.tz)
            except appointments.AppointmentError:
                raise CliError(
                    "--since: give a duration like 7d or a date like 2026-12-01", EXIT_USAGE
                ) from None

    async def work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        return await admin.audit_log(session, since)

    rows = asyncio.run(_with_database(settings, work))
    columns = ("at", "action", "actor", "actor_telegram_id", "participant_id")
    _print(rows, args.json, lambda r: _table(r, columns))
    return 0


def cmd_erase(settings: Settings, args: argparse.Namespace) -> int:
    """Delete everything about one participant (AVG/GDPR)."""
    from bot import privacy

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        counts = await privacy.erase(session, args.participant, runtime.clock.now(), "cli")
        return {"participant": args.participant, "deleted": counts}

    data = asyncio.run(_with_database(settings, work))
    _print(
        data,
        args.json,
        lambda d: f"participant {d['participant']} erased ({sum(d['deleted'].values())} rows)",
    )
    return 0


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    """Delete conversation older than OPRIT_RETENTION_DAYS."""
    from bot import privacy

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        counts = await privacy.purge(session, runtime.clock.now(), settings.retention_days)
        return {"retention_days": settings.retention_days, "deleted": counts}

    data = asyncio.run(_with_database(settings, work))
    _print(data, args.json, lambda d: f"purged {sum(d['deleted'].values())} rows")
    return 0


def cmd_keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    """Re-encrypt everything under a new key while the bot keeps running."""
    from bot import privacy

    key_file = settings.data_dir / "oprit.key"
    if not settings.encryption_key:
        if not key_file.exists():
            raise CliError(f"no key file at {key_file}; start the bot once first")
        crypto.write_key_file(key_file, [crypto.generate_key(), *crypto.keys_in_file(key_file)])

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        batches = await privacy.rotate_keys(runtime.sessions, runtime.clock.now())
        return {"key": runtime.keyring.primary_id, "batches": batches}

    data = asyncio.run(_with_database(settings, work))
    advice = (
        "; the old key is still in the key file: remove it once backups made with it are gone"
        if not settings.encryption_key
        else "; you can drop the old key from OPRIT_ENCRYPTION_KEY now"
    )
    _print(data, args.json, lambda d: f"everything is now encrypted with key {d['key']}" + advice)
    return 0


def cmd_keys_generate(settings: Settings, args: argparse.Namespace) -> int:
    """Print a fresh key for OPRIT_ENCRYPTION_KEY."""
    key = crypto.generate_key()
    _print({"key": key}, args.json, lambda d: str(d["key"]))
    return 0


def _duration_arg(value: str, flag: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise CliError(f"{flag}: {error}", EXIT_USAGE) from None


def _text(value: str) -> str:
    """A text argument made safe to store: invalid UTF-8 (which arrives as lone
    surrogates) becomes �, NUL bytes go."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "")


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be a positive number")
    return number


def build_parser() -> argparse.ArgumentParser:
    """All subcommands of `oprit`."""
    parser = Parser(prog="oprit", description="Oprit: chat assistant for re-integration officers")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def command(
        group: Any, name: str, handler: Callable[[Settings, argparse.Namespace], int], text: str
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, help=text, description=text)
        sub.add_argument("--json", action="store_true", help="print one JSON document")
        sub.set_defaults(handler=handler)
        return sub

    command(commands, "run", cmd_run, "run the bot with long polling (migrates first)")
    hook = command(commands, "webhook", cmd_webhook, "run a webhook worker")
    hook.add_argument(
        "--reset", action="store_true", help="drop the updates Telegram kept (never by default)"
    )

    database = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True, parser_class=Parser
    )
    command(database, "upgrade", cmd_db_upgrade, "migrate the database to the newest schema")
    command(database, "current", cmd_db_current, "show the database's schema revision")

    staff = commands.add_parser("staff", help="officers and coordinators").add_subparsers(
        dest="staff_command", required=True, parser_class=Parser
    )
    add = command(staff, "add", cmd_staff_add, "add an officer or coordinator")
    add.add_argument("--telegram-id", type=_positive_int, required=True)
    add.add_argument("--role", required=True, help="officer or coordinator")
    add.add_argument("--name", required=True, type=_text)
    add.add_argument("--backup", action="store_true", help="receives escalated alerts")
    command(staff, "list", cmd_staff_list, "list staff and whether the bot can reach them")
    remove = command(staff, "remove", cmd_staff_remove, "take away a staff member's access")
    remove.add_argument("--telegram-id", type=_positive_int, required=True)

    invite = commands.add_parser("invite", help="invite codes").add_subparsers(
        dest="invite_command", required=True, parser_class=Parser
    )
    create = command(invite, "create", cmd_invite_create, "make a single-use invite link")
    create.add_argument("--officer", type=_positive_int, metavar="TELEGRAM_ID")
    create.add_argument("--name", type=_text)
    create.add_argument("--language")
    create.add_argument("--expires", default="14d", help="how long it stays valid (14d, 48h)")

    participants = commands.add_parser("participants", help="participants").add_subparsers(
        dest="participants_command", required=True, parser_class=Parser
    )
    command(participants, "list", cmd_participants_list, "list all participants")

    appointment = commands.add_parser("appointment", help="appointments").add_subparsers(
        dest="appointment_command", required=True, parser_class=Parser
    )
    plan = command(appointment, "add", cmd_appointment_add, "plan an appointment with reminders")
    plan.add_argument("--participant", type=_positive_int, required=True, metavar="ID")
    plan.add_argument("--at", required=True, help="ISO 8601; local time when no offset")
    plan.add_argument("--with", dest="with_org", required=True, metavar="ORG", type=_text)
    plan.add_argument("--location", type=_text)
    plan.add_argument("--note", type=_text)

    exporting = command(commands, "export", cmd_export, "everything stored about a participant")
    exporting.add_argument("--participant", type=_positive_int, required=True, metavar="ID")
    command(commands, "triage", cmd_triage, "classify JSON lines from stdin")

    broadcast = commands.add_parser("broadcast", help="broadcasts").add_subparsers(
        dest="broadcast_command", required=True, parser_class=Parser
    )
    send = command(broadcast, "send", cmd_broadcast_send, "send a message to participants")
    send.add_argument("--text", required=True, help="the text in the default language", type=_text)
    for language in available_languages():
        send.add_argument(
            f"--text-{language}", metavar="TEXT", type=_text, help=f"the text in {language}"
        )
    send.add_argument("--cohort", default="all", help="all or language:LANG")
    send.add_argument("--at", help="ISO 8601; local time when no offset (default: now)")
    status = command(broadcast, "status", cmd_broadcast_status, "delivery counts of a broadcast")
    status.add_argument("id", type=_positive_int)

    keys = commands.add_parser("keys", help="encryption keys").add_subparsers(
        dest="keys_command", required=True, parser_class=Parser
    )
    command(keys, "generate", cmd_keys_generate, "print a new encryption key")
    command(keys, "rotate", cmd_keys_rotate, "re-encrypt everything under a new key")
    auditing = command(commands, "audit", cmd_audit, "print the audit log")
    auditing.add_argument("--since", help="a duration like 7d, or a date like 2026-12-01")
    erasing = command(commands, "erase", cmd_erase, "delete everything about a participant")
    erasing.add_argument("--participant", type=_positive_int, required=True, metavar="ID")
    command(commands, "purge", cmd_purge, "delete conversation older than the retention period")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `oprit` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return int(args.handler(settings, args))
    except (
        CliError,
        ConfigError,
        EncryptionKeyError,
        admin.AdminError,
        registration.InviteError,
        AppointmentError,
        BroadcastError,
        PrivacyError,
    ) as error:
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


if __name__ == "__main__":
    sys.exit(main())
