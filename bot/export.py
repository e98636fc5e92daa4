"""Everything stored about one participant, decrypted, as one JSON document (AVG/GDPR).

Used by `oprit export` and by *Send me my data* in the chat.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.labels import help_reference
from db import appointments as appointments_db
from db import checkins as checkins_db
from db import conversation, people
from db import help_requests as requests_db
from db.alerts import alerts_of


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def export_participant(session: AsyncSession, participant_id: int) -> dict[str, Any] | None:
    """The whole record of one participant, or None when there is no such participant."""
    participant = await people.participant_by_id(session, participant_id)
    if participant is None:
        return None
    stored = await conversation.messages_of(session, participant.id)
    own_chat = participant.telegram_id
    messages = [m for m in stored if m.chat_id == own_chat or m.direction == "in"]
    about = [m for m in stored if m.chat_id != own_chat and m.direction == "out"]
    appointments = await appointments_db.appointments_of(session, participant.id)
    return {
        "participant": {
            "id": participant.id,
            "name": participant.name,
            "telegram_id": participant.telegram_id,
            "language": participant.language,
            "status": participant.status,
            "consent_at": _iso(participant.consent_at),
            "created_at": _iso(participant.created_at),
            "last_checkin_at": _iso(participant.last_checkin_at),
        },
        "messages": [
            {
                "direction": m.direction,
                "kind": m.kind,
                "text": m.text,
                "at": _iso(m.at),
                "media": m.media_file_id,
                "detail": m.detail,
            }
            for m in messages
        ],
        # What staff were sent about the person: alerts, copies, case views, confirmations.
        "staff_messages": [{"text": m.text, "at": _iso(m.at)} for m in about],
        "checkins": [
            {
                "status": c.status,
                "mood": c.mood,
                "answers": c.answers or {},
                "note": c.note,
                "voice": c.voice_file_id,
                "prompted_at": _iso(c.prompted_at),
                "completed_at": _iso(c.completed_at),
            }
            for c in await checkins_db.checkins_of(session, participant.id)
        ],
        "help_requests": [
            {
                "reference": help_reference(r.id),
                "domain": r.domain,
                "text": r.text,
                "media": r.media_file_ids or [],
                "status": r.status,
                "created_at": _iso(r.created_at),
                "acknowledged_at": _iso(r.acknowledged_at),
                "resolved_at": _iso(r.resolved_at),
            }
            for r in await requests_db.requests_of(session, participant.id)
        ],
        "appointments": [
            {
                "id": a.id,
                "at": _iso(a.at),
                "with": a.with_org,
                "location": a.location,
                "note": a.note,
                "status": a.status,
                "confirmation": a.confirmation,
                "decline_reason": a.decline_reason,
            }
            for a in appointments
        ],
        "alerts": [
            {
                "kind": a.kind,
                "severity": a.severity,
                "categories": a.categories or [],
                "matches": a.matches or [],
                "status": a.status,
                "created_at": _iso(a.created_at),
            }
            for a in await alerts_of(session, participant.id)
        ],
    }


def as_json_bytes(document: dict[str, Any]) -> bytes:
    """The export as a UTF-8 JSON file."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
