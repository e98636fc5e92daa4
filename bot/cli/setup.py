"""`oprit db ...` and `oprit keys ...`: the schema and the encryption keys."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import crypto
from bot.cli.common import AddCommand, group, out, with_database
from bot.cli.progress import progress, wanted
from bot.config import Settings
from bot.runtime import Runtime
from bot.services import privacy


def db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Bring the database schema to the newest version."""
    from db import migrate  # loaded when used: Alembic adds a tenth of a second
    from db.session import create_engine

    async def work(runtime: Runtime, session: AsyncSession) -> str | None:
        return await migrate.current(runtime.engine)

    async def pending() -> int:
        engine = create_engine(settings.database_url)
        try:
            return await migrate.pending(engine)
        finally:
            await engine.dispose()

    total = asyncio.run(pending()) if wanted(args.json) else 0
    with progress(args.json or not total, total, "migrations", "upgrading") as step:
        revision = asyncio.run(with_database(settings, work, step))
    out({"revision": revision}, args.json, lambda d: f"database is at revision {d['revision']}")
    return 0


def db_current(settings: Settings, args: argparse.Namespace) -> int:
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
    out(
        data,
        args.json,
        lambda d: (
            f"revision {d['revision'] or '(none)'}"
            + ("" if d["up_to_date"] else f"; newest is {d['head']}: run 'oprit db upgrade'")
        ),
    )
    return 0


def keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    """Re-encrypt everything under a new key while the bot keeps running."""
    privacy.add_primary_key(settings)

    async def work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        total = await privacy.tokens_to_rotate(runtime) if wanted(args.json) else None
        with progress(args.json, total, "rows", "re-encrypting") as rows_done:
            batches = await privacy.rotate_keys(runtime, rows_done)
        return {"key": runtime.keyring.primary_id, "batches": batches}

    data = asyncio.run(with_database(settings, work))
    advice = (
        "; the old key is still in the key file: remove it once backups made with it are gone"
        if not settings.encryption_key
        else "; you can drop the old key from OPRIT_ENCRYPTION_KEY now"
    )
    out(data, args.json, lambda d: f"everything is now encrypted with key {d['key']}" + advice)
    return 0


def keys_generate(settings: Settings, args: argparse.Namespace) -> int:
    """Print a fresh key for OPRIT_ENCRYPTION_KEY."""
    out({"key": crypto.generate_key()}, args.json, lambda d: str(d["key"]))
    return 0


def register(commands: Any, command: AddCommand) -> None:
    """`oprit db upgrade|current`, `oprit keys generate|rotate`."""
    database = group(commands, "db", "database schema")
    command(database, "upgrade", db_upgrade, "migrate the database to the newest schema")
    command(database, "current", db_current, "show the database's schema revision")
    keys = group(commands, "keys", "encryption keys")
    command(keys, "generate", keys_generate, "print a new encryption key")
    command(keys, "rotate", keys_rotate, "re-encrypt everything under a new key")
