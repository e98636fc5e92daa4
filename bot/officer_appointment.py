"""/appointment for officers: a guided plan (participant, date, time, organisation, place)
that validates each answer, shows a summary and only then creates the appointment."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import appointments, guide
from bot.flows import ChoiceId, choice_id, clean, new_token
from bot.i18n import _, when
from bot.officer import may_see, not_allowed, sees_everyone
from bot.replies import Choice, Reply
from db import cases, conversation, people
from db.models import Staff

FLOW = "oa"
_DATE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2,4}))?\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


def parse_date(text: str, today: date) -> date | None:
    """`7-12`, `07-12-2026`, `7/12/26` or `2026-12-07`; a date without year is the next one."""
    if not text.isascii():
        return None
    try:
        if match := _ISO_DATE.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DATE.match(text):
            day, month = int(match[1]), int(match[2])
            if match[3]:
                year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
                return date(year, month, day)
            candidate = date(today.year, month, day)
            return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None
    return None


def parse_time(text: str) -> time | None:
    """`14:00` or `9.30`."""
    match = _TIME.match(text) if text.isascii() else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


async def start(session: AsyncSession, staff: Staff, now: datetime) -> list[Reply]:
    """Ask which participant (buttons for up to 12, or type a name or number)."""
    token = new_token()
    await conversation.save_flow_state(
        session, staff.telegram_id, FLOW, "participant", token, {}, now
    )
    found = await cases.find_participants(session, "", None if sees_everyone(staff) else staff.id)
    choices = [
        [Choice(choice_id(FLOW, token, f"p.{p.id}"), f"#{p.id} {p.name}"[:60])] for p in found[:12]
    ]
    choices.append([Choice(choice_id(FLOW, token, "cancel"), _("Cancel"))])
    return [Reply(_("New appointment. For whom? Tap a name or type a name or number."), choices)]


async def choose(
    session: AsyncSession,
    staff: Staff,
    choice: ChoiceId,
    now: datetime,
    zone: tzinfo,
    offsets: list[timedelta],
) -> list[Reply]:
    """A button in the guided plan."""
    state = await conversation.flow_state(session, staff.telegram_id)
    if state is None or state.flow != FLOW or state.token != choice.token:
        return [guide.stale_button_reply()]
    data: dict[str, Any] = dict(state.data or {})
    if choice.value == "cancel":
        await conversation.clear_flow_state(session, staff.telegram_id)
        return [Reply(_("Stopped. No appointment was made."))]
    if choice.value.startswith("p.") and state.step == "participant":
        return await _set_participant(session, staff, choice.value[2:], data, state.token, now)
    if choice.value == "noplace" and state.step == "place":
        data["location"] = None
        return await _summary(session, staff, data, state.token, now, zone)
    if choice.value == "confirm" and state.step == "confirm":
        await conversation.clear_flow_state(session, staff.telegram_id)
        participant = await people.participant_by_id(session, int(data["participant_id"]))
        if participant is None or not may_see(staff, participant):
            return [not_allowed()]
        made = await appointments.create(
            session,
            participant.id,
            at=datetime.fromisoformat(data["at"]),
            with_org=data["with"],
            location=data.get("location"),
            note=None,
            offsets=offsets,
            zone=zone,
            now=now,
        )
        return [
            Reply(
                _("Planned: {name}, {when}. Reminders: {count}.").format(
                    name=participant.name,
                    when=when(made.appointment.at, zone),
                    count=len(made.reminder_times),
                ),
                about=participant.id,
            )
        ]
    return [guide.stale_button_reply()]


async def answer(
    session: AsyncSession, staff: Staff, text: str, now: datetime, zone: tzinfo
) -> list[Reply] | None:
    """Typed input in the guided plan; None when the staff member is not planning."""
    state = await conversation.flow_state(session, staff.telegram_id)
    if state is None or state.flow != FLOW:
        return None
    data: dict[str, Any] = dict(state.data or {})
    text = clean(text).strip()
    token = state.token
    if state.step == "participant":
        return await _set_participant(session, staff, text.lstrip("#"), data, token, now)
    if state.step == "date":
        day = parse_date(text, now.astimezone(zone).date())
        if day is None:
            return [Reply(_("I did not understand that date. Type it like 7-12 or 2026-12-07."))]
        data["date"] = day.isoformat()
        await conversation.save_flow_state(
            session, staff.telegram_id, FLOW, "time", token, data, now
        )
        return [Reply(_("What time? (like 14:00)"))]
    if state.step == "time":
        clock = parse_time(text)
        if clock is None:
            return [Reply(_("I did not understand that time. Type it like 14:00."))]
        moment = datetime.combine(date.fromisoformat(data["date"]), clock, tzinfo=zone)
        if moment <= now:
            return [Reply(_("That moment has passed. Type a later time, or /appointment again."))]
        data["at"] = moment.isoformat()
        await conversation.save_flow_state(
            session, staff.telegram_id, FLOW, "with", token, data, now
        )
        return [Reply(_("With which organisation or person?"))]
    if state.step == "with":
        if not text or len(text) > appointments.MAX_FIELD:
            return [Reply(_("Please type a short name of the organisation."))]
        data["with"] = text
        await conversation.save_flow_state(
            session, staff.telegram_id, FLOW, "place", token, data, now
        )
        return [
            Reply(
                _("Where? Type the address, or tap Skip."),
                [[Choice(choice_id(FLOW, token, "noplace"), _("Skip"))]],
            )
        ]
    if state.step == "place":
        if len(text) > appointments.MAX_FIELD:
            return [Reply(_("That address is too long."))]
        data["location"] = text or None
        return await _summary(session, staff, data, token, now, zone)
    return [Reply(_("Tap Confirm or Cancel above."))]


async def _set_participant(
    session: AsyncSession, staff: Staff, query: str, data: dict[str, Any], token: str, now: datetime
) -> list[Reply]:
    found = await cases.find_participants(
        session, query, None if sees_everyone(staff) else staff.id
    )
    if len(found) != 1:
        return [Reply(_("I cannot find exactly one participant with that. Try the number."))]
    data["participant_id"] = found[0].id
    await conversation.save_flow_state(session, staff.telegram_id, FLOW, "date", token, data, now)
    return [
        Reply(
            _("{name}. Which date? (like 7-12 or 2026-12-07)").format(name=found[0].name),
            about=found[0].id,
        )
    ]


async def _summary(
    session: AsyncSession,
    staff: Staff,
    data: dict[str, Any],
    token: str,
    now: datetime,
    zone: tzinfo,
) -> list[Reply]:
    await conversation.save_flow_state(
        session, staff.telegram_id, FLOW, "confirm", token, data, now
    )
    participant = await people.participant_by_id(session, int(data["participant_id"]))
    name = participant.name if participant else "?"
    place = data.get("location") or "—"
    text = _("Plan this appointment?\n{name}\n{when}\nWith: {org}\nWhere: {place}").format(
        name=name,
        when=when(datetime.fromisoformat(data["at"]), zone),
        org=data["with"],
        place=place,
    )
    return [
        Reply(
            text,
            [
                [
                    Choice(choice_id(FLOW, token, "confirm"), _("✅ Confirm")),
                    Choice(choice_id(FLOW, token, "cancel"), _("Cancel")),
                ]
            ],
            about=participant.id if participant else None,
        )
    ]
