"""Column types: aware UTC timestamps on every backend, and encrypted text/JSON.

The encrypted types get their cipher from the engine's dialect (`bind_cipher`), so the
keys are a property of the database connection the process opened, not a global."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

_CIPHER = "oprit_cipher"


class Cipher(Protocol):
    """What the encrypted columns need from a keyring."""

    def encrypt(self, plain: str) -> str:
        """Text to a token that is safe to store in a text column."""
        ...

    def decrypt(self, token: str) -> str:
        """A stored token back to text."""
        ...


def bind_cipher(engine: AsyncEngine, cipher: Cipher) -> None:
    """Encrypt and decrypt this engine's encrypted columns with `cipher`."""
    setattr(engine.sync_engine.dialect, _CIPHER, cipher)


def _cipher(dialect: Dialect) -> Cipher:
    cipher: Cipher | None = getattr(dialect, _CIPHER, None)
    if cipher is None:
        raise RuntimeError("no encryption key is bound to this database engine")
    return cipher


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the active keyring; the database only sees Fernet tokens."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _cipher(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _cipher(dialect).decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document encrypted as a whole (flow answers, outbox payloads)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _cipher(dialect).encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(_cipher(dialect).decrypt(value))
