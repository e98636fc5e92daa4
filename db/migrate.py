"""Alembic driven from code: the only way the schema is made or changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

# Alembic's package-resource form: found through importlib.resources, in a checkout and in
# an installed wheel alike.
MIGRATIONS = "db:migrations"


def alembic_config(connection: Connection | None = None, keyring: object = None) -> Config:
    """A Config pointing at our migrations; with a connection, env.py reuses it, and a
    keyring lets a data migration encrypt what it moves."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    config.attributes["keyring"] = keyring
    return config


async def upgrade(
    engine: AsyncEngine,
    keyring: object = None,
    revision: str = "head",
    on_step: Callable[[int], object] | None = None,
) -> None:
    """Bring the schema to `revision` on the engine's database; `on_step(1)` after each
    migration (a progress bar)."""

    def _run(connection: Connection) -> None:
        config = alembic_config(connection, keyring)
        config.attributes["on_step"] = on_step
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)


async def current(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""

    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_read)


async def pending(engine: AsyncEngine) -> int:
    """How many migrations an upgrade to the newest schema would run."""
    at = await current(engine)
    script = ScriptDirectory.from_config(alembic_config())
    steps: list[Any] = list(script.iterate_revisions("heads", at or "base"))
    return len([step for step in steps if step is not None and step.revision != at])


def head() -> str | None:
    """The newest revision in the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
