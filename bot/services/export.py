"""Everything stored about one participant, decrypted, as one JSON document (AVG/GDPR).

Used by `oprit export` and by *Send me my data* in the chat. It walks the declared list
of tables about participants (db.personal_data), so a new table is exported as soon as it
is declared there: with its own shape below when it has one, else column by column.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.services.conditions import condition_dict
from bot.services.labels import help_reference
from bot.services.plan import task_dict
from bot.services.referrals import referral_dict
from db import people
from db.enums import Direction
from db.models import (
    Alert,
    Appointment,
    Base,
    Checkin,
    Condition,
    HelpRequest,
    Message,
    Participant,
    PlanTask,
    Referral,
)
from db.personal_data import exported, rows_of

INTERNAL_COLUMNS = ("id", "participant_id", "lookup")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _participant(p: Participant) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "telegram_id": p.telegram_id,
        "language": p.language,
        "status": p.status,
        "consent_at": _iso(p.consent_at),
        "created_at": _iso(p.created_at),
        "last_checkin_at": _iso(p.last_checkin_at),
        "release_date": p.release_date.isoformat() if p.release_date else None,
        "facility": p.facility,
    }


def _message(m: Message) -> dict[str, Any]:
    return {
        "direction": m.direction,
        "kind": m.kind,
        "text": m.text,
        "at": _iso(m.at),
        "media": m.media_file_id,
        "detail": m.detail,
    }


def _checkin(c: Checkin) -> dict[str, Any]:
    return {
        "status": c.status,
        "mood": c.mood,
        "answers": c.answers or {},
        "note": c.note,
        "voice": c.voice_file_id,
        "prompted_at": _iso(c.prompted_at),
        "completed_at": _iso(c.completed_at),
    }


def _help_request(r: HelpRequest) -> dict[str, Any]:
    return {
        "reference": help_reference(r.id),
        "domain": r.domain,
        "text": r.text,
        "media": r.media_file_ids or [],
        "status": r.status,
        "created_at": _iso(r.created_at),
        "acknowledged_at": _iso(r.acknowledged_at),
        "resolved_at": _iso(r.resolved_at),
    }


def _appointment(a: Appointment) -> dict[str, Any]:
    return {
        "id": a.id,
        "at": _iso(a.at),
        "with": a.with_org,
        "location": a.location,
        "note": a.note,
        "status": a.status,
        "confirmation": a.confirmation,
        "decline_reason": a.decline_reason,
        "attendance": a.attendance,
    }


def _alert(a: Alert) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "severity": a.severity,
        "categories": a.categories or [],
        "matches": a.matches or [],
        "status": a.status,
        "created_at": _iso(a.created_at),
    }


def _columns(row: Base) -> dict[str, Any]:
    """A row of a table without a shape of its own: every column but the ids."""
    document: dict[str, Any] = {}
    for column in inspect(row).mapper.column_attrs:
        if column.key not in INTERNAL_COLUMNS:
            value = getattr(row, column.key)
            document[column.key] = _iso(value) if isinstance(value, datetime) else value
    return document


Shape = Callable[[Any], dict[str, Any]]
SHAPES: dict[type[Base], Shape] = {
    Participant: _participant,
    Message: _message,
    Checkin: _checkin,
    HelpRequest: _help_request,
    Appointment: _appointment,
    Alert: _alert,
    PlanTask: task_dict,
    Referral: referral_dict,
    Condition: condition_dict,
}


async def export_participant(
    session: AsyncSession,
    participant_id: int,
    table_done: Callable[[int], object] = lambda _count: None,
) -> dict[str, Any] | None:
    """The whole record of one participant, or None when there is no such participant;
    `table_done(1)` after each table (a progress bar)."""
    participant = await people.participant_by_id(session, participant_id)
    if participant is None:
        return None
    document: dict[str, Any] = {}
    for table in exported():
        assert table.exported_as is not None
        rows = await rows_of(session, table, participant.id)
        shape: Shape = SHAPES.get(table.model, _columns)
        if table.model is Participant:
            document[table.exported_as] = shape(participant)
        elif table.model is Message:
            # What the participant wrote and was sent, and apart from it what staff were
            # sent about them (alerts, copies, case views, confirmations).
            address = outbox.address_of(participant)
            own = address.chat if address is not None else None
            mine = [m for m in rows if m.chat_id == own or m.direction == Direction.IN]
            about = [m for m in rows if m.chat_id != own and m.direction == Direction.OUT]
            document[table.exported_as] = [shape(m) for m in mine]
            document["staff_messages"] = [{"text": m.text, "at": _iso(m.at)} for m in about]
        else:
            document[table.exported_as] = [shape(row) for row in rows]
        table_done(1)
    return document


def as_json_bytes(document: dict[str, Any]) -> bytes:
    """The export as a UTF-8 JSON file."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
