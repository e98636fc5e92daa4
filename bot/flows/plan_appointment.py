"""/appointment for officers: a guided plan (participant, date, time, organisation, place)
that validates each answer, shows a summary and only then creates the appointment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.events import InboundEvent
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Reply
from bot.flows import guide
from bot.i18n import _, when
from bot.services import appointments
from bot.services.access import may_see, not_allowed, officer_scope
from bot.text import clean
from bot.timeparse import parse_date, parse_time
from db import cases, people
from db.models import Appointment

FLOW_ID = "oa"


async def start(ctx: FlowContext, args: str) -> list[Reply]:
    """Ask which participant (buttons for up to 12, or type a name or number)."""
    assert ctx.staff is not None
    token = new_token()
    await ctx.save_state(FLOW_ID, "participant", token, {})
    found = await cases.find_participants(ctx.session, "", officer_scope(ctx.staff))
    choices = [
        [Choice(choice_id(FLOW_ID, token, f"p.{p.id}"), f"#{p.id} {p.name}"[:60])]
        for p in found[:12]
    ]
    choices.append([Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel"))])
    return [Reply(_("New appointment. For whom? Tap a name or type a name or number."), choices)]


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """A button in the guided plan."""
    staff = ctx.staff
    assert staff is not None
    state = await ctx.state()
    assert state is not None  # the registry checked the flow and its token
    session, now, zone = ctx.session, ctx.now, ctx.zone
    data: dict[str, Any] = dict(state.data or {})
    if choice.value == "cancel":
        await ctx.clear_state()
        return [Reply(_("Stopped. No appointment was made."))]
    if choice.value.startswith("p.") and state.step == "participant":
        return await _set_participant(ctx, choice.value[2:], data, state.token)
    if choice.value == "noplace" and state.step == "place":
        data["location"] = None
        return await _summary(ctx, data, state.token)
    if choice.value == "confirm" and state.step == "confirm":
        await ctx.clear_state()
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
            offsets=ctx.settings.reminder_offsets,
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


async def answer(ctx: FlowContext, event: InboundEvent) -> list[Reply] | None:
    """Typed input in the guided plan; None when the staff member is not planning."""
    state = await ctx.state()
    if state is None or event.text is None:
        return None
    now, zone = ctx.now, ctx.zone
    data: dict[str, Any] = dict(state.data or {})
    text = clean(event.text).strip()
    token = state.token
    if state.step == "participant":
        return await _set_participant(ctx, text.lstrip("#"), data, token)
    if state.step == "date":
        day = parse_date(text, now.astimezone(zone).date())
        if day is None:
            return [Reply(_("I did not understand that date. Type it like 7-12 or 2026-12-07."))]
        data["date"] = day.isoformat()
        await ctx.save_state(FLOW_ID, "time", token, data)
        return [Reply(_("What time? (like 14:00)"))]
    if state.step == "time":
        clock = parse_time(text)
        if clock is None:
            return [Reply(_("I did not understand that time. Type it like 14:00."))]
        moment = datetime.combine(date.fromisoformat(data["date"]), clock, tzinfo=zone)
        if moment <= now:
            return [Reply(_("That moment has passed. Type a later time, or /appointment again."))]
        data["at"] = moment.isoformat()
        await ctx.save_state(FLOW_ID, "with", token, data)
        return [Reply(_("With which organisation or person?"))]
    if state.step == "with":
        if not text or len(text) > appointments.MAX_FIELD:
            return [Reply(_("Please type a short name of the organisation."))]
        data["with"] = text
        await ctx.save_state(FLOW_ID, "place", token, data)
        return [
            Reply(
                _("Where? Type the address, or tap Skip."),
                [[Choice(choice_id(FLOW_ID, token, "noplace"), _("Skip"))]],
            )
        ]
    if state.step == "place":
        if len(text) > appointments.MAX_FIELD:
            return [Reply(_("That address is too long."))]
        data["location"] = text or None
        return await _summary(ctx, data, token)
    return [Reply(_("Tap Confirm or Cancel above."))]


async def _set_participant(
    ctx: FlowContext, query: str, data: dict[str, Any], token: str
) -> list[Reply]:
    assert ctx.staff is not None
    found = await cases.find_participants(ctx.session, query, officer_scope(ctx.staff))
    if len(found) != 1:
        return [Reply(_("I cannot find exactly one participant with that. Try the number."))]
    data["participant_id"] = found[0].id
    await ctx.save_state(FLOW_ID, "date", token, data)
    return [
        Reply(
            _("{name}. Which date? (like 7-12 or 2026-12-07)").format(name=found[0].name),
            about=found[0].id,
        )
    ]


async def _summary(ctx: FlowContext, data: dict[str, Any], token: str) -> list[Reply]:
    await ctx.save_state(FLOW_ID, "confirm", token, data)
    zone = ctx.zone
    participant = await people.participant_by_id(ctx.session, int(data["participant_id"]))
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
                    Choice(choice_id(FLOW_ID, token, "confirm"), _("✅ Confirm")),
                    Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel")),
                ]
            ],
            about=participant.id if participant else None,
        )
    ]


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.STAFF,
    commands=(Command("appointment"),),
    start=start,
    on_choice=choose,
    on_text=answer,
    state_token=True,
    stores=(Appointment,),
)
