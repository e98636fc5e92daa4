"""Export, erasure and the retention purge reach a table through db.personal_data only: a
table about participants that is not declared there would be silently skipped by all
three. These tests fail when one is missing."""

from __future__ import annotations

from sqlalchemy import Table

from bot import flows
from db.models import Base, Participant
from db.personal_data import OTHER_PURGED, PERSONAL_DATA, exported


def _about_participants(table: Table) -> bool:
    if "participant_id" in table.columns:
        return True
    return any(key.column.table is Participant.__table__ for key in table.foreign_keys)


def test_every_table_about_participants_is_declared() -> None:
    declared = {table.model.__table__ for table in PERSONAL_DATA}
    missing = [
        table.name
        for table in Base.metadata.sorted_tables
        if _about_participants(table) and table not in declared
    ]
    assert missing == [], f"add these to db.personal_data.PERSONAL_DATA: {missing}"


def test_what_a_flow_stores_is_declared() -> None:
    declared = {table.model for table in (*PERSONAL_DATA, *OTHER_PURGED)}
    for flow in flows.FLOWS:
        undeclared = [model.__tablename__ for model in flow.stores if model not in declared]
        assert undeclared == [], f"flow {flow.id} stores undeclared tables {undeclared}"


def test_every_declaration_names_real_columns() -> None:
    for table in (*PERSONAL_DATA, *OTHER_PURGED):
        columns = table.model.__table__.columns
        if table.purged_by is not None:
            assert table.purged_by in columns, (table.model.__tablename__, table.purged_by)
        if table.exported_as is not None:
            assert table.export_order in columns, (table.model.__tablename__, table.export_order)


def test_export_keys_are_unique_and_start_with_the_participant() -> None:
    keys = [table.exported_as for table in exported()]
    assert keys[0] == "participant"
    assert len(keys) == len(set(keys)) and "staff_messages" not in keys
