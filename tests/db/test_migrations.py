"""The migrations are the schema: they run on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.runtime import Runtime
from db import migrate
from db.models import Base


async def test_upgrade_reaches_head(runtime: Runtime) -> None:
    assert await migrate.current(runtime.engine) == migrate.head()


async def test_upgrade_twice_is_harmless(runtime: Runtime) -> None:
    await migrate.upgrade(runtime.engine)
    assert await migrate.current(runtime.engine) == migrate.head()


async def test_migrations_match_the_models(runtime: Runtime) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))

    async with runtime.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_every_table_exists(runtime: Runtime) -> None:
    def tables(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with runtime.engine.connect() as connection:
        found = await connection.run_sync(tables)
    expected = {
        "participants",
        "staff",
        "invites",
        "messages",
        "checkins",
        "help_requests",
        "appointments",
        "reminders",
        "alerts",
        "broadcasts",
        "outbox",
        "audit_log",
        "inbox",
    }
    assert expected <= found
