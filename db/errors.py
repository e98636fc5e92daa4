"""What a database error means for the caller: the database is away, a transaction lost a
race, or it is a bug.

An *outage* (server restarting, connection refused or reset) is waited out: nothing is
marked failed, the work is retried when the database answers again. A *conflict*
(serialization failure, deadlock, lock timeout, a unique key taken by a concurrent
transaction, SQLite's "database is locked") is retried a few times with backoff before it
counts as a bug. Everything else is a bug.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError


class DatabaseTrouble(StrEnum):
    """How to treat a failure."""

    OUTAGE = "outage"
    CONFLICT = "conflict"
    BUG = "bug"


# SQLSTATE classes and codes (PostgreSQL): connection exceptions and shutdowns are an outage;
# serialization failures, deadlocks, lock timeouts and integrity races are conflicts.
_OUTAGE_CLASSES = ("08",)
_OUTAGE_CODES = frozenset({"57P01", "57P02", "57P03", "53300"})
_CONFLICT_CODES = frozenset({"40001", "40P01", "55P03"})
_CONFLICT_CLASSES = ("23",)
_SQLITE_CONFLICT = ("database is locked", "database table is locked")
_SQLITE_OUTAGE = ("unable to open database", "disk i/o error", "database disk image")
_BROKEN_CONNECTION = "another operation"
# How many times a conflict is tried again before it counts as a bug.
CONFLICT_RETRIES = 4


def _sqlstate(error: BaseException) -> str | None:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 6:
        seen.append(current)
        for attribute in ("sqlstate", "pgcode"):
            value = getattr(current, attribute, None)
            if isinstance(value, str) and len(value) == 5:
                return value
        current = getattr(current, "orig", None) or current.__cause__
    return None


def classify(error: BaseException) -> DatabaseTrouble:
    """Outage, conflict or bug (see the module docstring)."""
    if isinstance(error, ConnectionError | TimeoutError | asyncio.TimeoutError):
        return DatabaseTrouble.OUTAGE
    if isinstance(error, OSError) and not isinstance(error, FileNotFoundError):
        return DatabaseTrouble.OUTAGE
    if not isinstance(error, DBAPIError):
        return DatabaseTrouble.BUG
    if error.connection_invalidated or isinstance(error, InterfaceError):
        return DatabaseTrouble.OUTAGE
    code = _sqlstate(error)
    if code is not None:
        if code.startswith(_OUTAGE_CLASSES) or code in _OUTAGE_CODES:
            return DatabaseTrouble.OUTAGE
        if code in _CONFLICT_CODES or code.startswith(_CONFLICT_CLASSES):
            return DatabaseTrouble.CONFLICT
        return DatabaseTrouble.BUG
    text = str(error.orig or error).lower()
    if any(marker in text for marker in _SQLITE_CONFLICT):
        return DatabaseTrouble.CONFLICT
    if any(marker in text for marker in _SQLITE_OUTAGE):
        return DatabaseTrouble.OUTAGE
    if isinstance(error, IntegrityError):
        return DatabaseTrouble.CONFLICT
    if isinstance(error, OperationalError) and _looks_like_connection(text):
        return DatabaseTrouble.OUTAGE
    if _BROKEN_CONNECTION in text:  # asyncpg, rolling back on a connection the server cut
        return DatabaseTrouble.OUTAGE
    return DatabaseTrouble.BUG


def _looks_like_connection(text: str) -> bool:
    return any(
        marker in text
        for marker in ("connection", "connect", "closed", "terminat", "refused", "reset")
    )


def is_outage(error: BaseException) -> bool:
    """Whether the database is away (wait and try again, mark nothing)."""
    return classify(error) is DatabaseTrouble.OUTAGE
