"""The key check value: a token stored at first start that tells whether the configured
encryption keys can read this database, before anything is read or written with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, inspect, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db import state
from db.models import Base, KeyValue

KEY = "key_check"
PLAIN = "oprit key check"


async def stored_check(engine: AsyncEngine) -> str | None:
    """The stored check token; None when there is none (or no schema yet)."""

    def read(connection: Connection) -> str | None:
        if not inspect(connection).has_table(KeyValue.__tablename__):
            return None
        value = connection.execute(select(KeyValue.value).where(KeyValue.key == KEY)).scalar()
        return str(value) if value is not None else None

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def sample_token(engine: AsyncEngine) -> str | None:
    """Any encrypted value stored so far (a database from before the key check), as it is
    on disk; None when the database holds no encrypted data."""
    from db.types import EncryptedJSON, EncryptedText

    def read(connection: Connection) -> str | None:
        existing = set(inspect(connection).get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in existing:
                continue
            present = {column["name"] for column in inspect(connection).get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    continue
                if not isinstance(column.type, EncryptedText | EncryptedJSON):
                    continue
                token = connection.execute(
                    select(type_coerce(column, Text)).where(column.is_not(None)).limit(1)
                ).scalar()
                if token:
                    return str(token)
        return None

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def store_check(session: AsyncSession, token: str, now: datetime) -> None:
    """Store (or, after a key rotation, replace) the check token."""
    await state.put(session, KEY, token, now)
