"""What a database error means: outages are waited out, races retried, the rest is a bug."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError, ProgrammingError

from db.errors import DatabaseTrouble, classify


@pytest.mark.parametrize(
    ("error", "trouble"),
    [
        (ConnectionRefusedError(), DatabaseTrouble.OUTAGE),
        (
            OperationalError("SELECT 1", {}, Exception("connection was closed")),
            DatabaseTrouble.OUTAGE,
        ),
        (
            InternalError(
                "ROLLBACK",
                {},
                Exception("cannot switch to state 15; another operation (2) is in progress"),
            ),
            DatabaseTrouble.OUTAGE,
        ),
        (OperationalError("INSERT", {}, Exception("database is locked")), DatabaseTrouble.CONFLICT),
        (
            IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
            DatabaseTrouble.CONFLICT,
        ),
        (ProgrammingError("SELEC", {}, Exception("syntax error")), DatabaseTrouble.BUG),
        (ValueError("not a database error"), DatabaseTrouble.BUG),
    ],
)
def test_classify(error: BaseException, trouble: DatabaseTrouble) -> None:
    assert classify(error) is trouble
