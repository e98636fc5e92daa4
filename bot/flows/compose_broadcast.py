"""/broadcast for coordinators: text per language, cohort, now or later, then confirm."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.events import InboundEvent
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Reply
from bot.flows import guide
from bot.i18n import _, available_languages, language_name, when
from bot.services import broadcasts
from bot.timeparse import parse_date, parse_time
from db.enums import Role
from db.models import Broadcast

FLOW_ID = "bc"


def not_coordinator() -> Reply:
    """Only coordinators broadcast."""
    return Reply(_("Only coordinators can send broadcasts."))


async def start(ctx: FlowContext, args: str) -> list[Reply]:
    """Ask for the text in the default language."""
    assert ctx.staff is not None
    if ctx.staff.role != Role.COORDINATOR:
        return [not_coordinator()]
    default_language = ctx.settings.default_language
    token = new_token()
    await ctx.save_state(FLOW_ID, f"text.{default_language}", token, {"texts": {}})
    return [
        Reply(
            _("New broadcast. Write the message in {language}.").format(
                language=language_name(default_language)
            ),
            [[Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel"))]],
        )
    ]


def _more_languages(data: dict[str, Any], token: str) -> Reply:
    missing = [lang for lang in available_languages() if lang not in data["texts"]]
    rows = [
        [Choice(choice_id(FLOW_ID, token, f"lang.{lang}"), language_name(lang))] for lang in missing
    ]
    rows.append([Choice(choice_id(FLOW_ID, token, "langs_done"), _("No more languages"))])
    return Reply(
        _("Add the same message in another language? Others get the {language} text.").format(
            language=", ".join(language_name(lang) for lang in data["texts"])
        ),
        rows,
    )


def _cohorts(token: str) -> Reply:
    rows = [[Choice(choice_id(FLOW_ID, token, "cohort.all"), _("Everyone"))]]
    rows += [
        [Choice(choice_id(FLOW_ID, token, f"cohort.language:{lang}"), language_name(lang))]
        for lang in available_languages()
    ]
    return Reply(_("Who gets it?"), rows)


async def answer(ctx: FlowContext, event: InboundEvent) -> list[Reply] | None:
    """Typed text in the broadcast flow; None when the coordinator is not composing."""
    state = await ctx.state()
    text, now, zone = event.text, ctx.now, ctx.zone
    if state is None or text is None:
        return None
    data: dict[str, Any] = dict(state.data or {"texts": {}})
    if state.step.startswith("text."):
        language = state.step.split(".", 1)[1]
        if not text.strip() or len(text) > broadcasts.MAX_TEXT:
            return [Reply(_("Please write a message of at most 4000 characters."))]
        data["texts"] = {**data["texts"], language: text.strip()}
        await ctx.save_state(FLOW_ID, "languages", state.token, data)
        return [_more_languages(data, state.token)]
    if state.step == "when":
        parts = text.split()
        day = parse_date(parts[0], now.astimezone(zone).date()) if parts else None
        clock = parse_time(parts[1]) if len(parts) == 2 else None
        if day is None or clock is None:
            return [Reply(_("Type the date and time like 7-12 14:00."))]
        moment = datetime.combine(day, clock, tzinfo=zone)
        if moment <= now:
            return [Reply(_("That moment has passed. Type a later time."))]
        data["at"] = moment.isoformat()
        return await _summary(ctx, data, state.token)
    return [Reply(_("Please use the buttons above."))]


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """A button in the broadcast flow (the role is checked at every press)."""
    staff = ctx.staff
    assert staff is not None
    if staff.role != Role.COORDINATOR:
        return [not_coordinator()]
    state = await ctx.state()
    if state is None or state.flow != FLOW_ID or state.token != choice.token:
        return [guide.stale_button_reply()]
    now = ctx.now
    data: dict[str, Any] = dict(state.data or {"texts": {}})
    token, value = state.token, choice.value
    if value == "cancel":
        await ctx.clear_state()
        return [Reply(_("Stopped. Nothing was sent."))]
    if value.startswith("lang.") and value[5:] in available_languages():
        await ctx.save_state(FLOW_ID, f"text.{value[5:]}", token, data)
        return [
            Reply(_("Write the message in {language}.").format(language=language_name(value[5:])))
        ]
    if value == "langs_done":
        await ctx.save_state(FLOW_ID, "cohort", token, data)
        return [_cohorts(token)]
    if value.startswith("cohort."):
        data["cohort"] = broadcasts.validate_cohort(value[7:])
        await ctx.save_state(FLOW_ID, "when", token, data)
        return [
            Reply(
                _("When? Tap Now, or type a date and time like 7-12 14:00."),
                [[Choice(choice_id(FLOW_ID, token, "now"), _("Now"))]],
            )
        ]
    if value == "now" and state.step == "when":
        data["at"] = now.isoformat()
        return await _summary(ctx, data, token)
    if value == "send" and state.step == "confirm":
        await ctx.clear_state()
        broadcast, audience = await broadcasts.create(
            ctx.session,
            texts=data["texts"],
            cohort=data["cohort"],
            send_at=datetime.fromisoformat(data["at"]),
            default_language=ctx.settings.default_language,
            now=now,
            created_by=staff.id,
            progress_chat_id=staff.telegram_id,
        )
        await broadcasts.announce(ctx.session, broadcast, audience, now)
        return []
    return [guide.stale_button_reply()]


async def _summary(ctx: FlowContext, data: dict[str, Any], token: str) -> list[Reply]:
    await ctx.save_state(FLOW_ID, "confirm", token, data)
    now, zone = ctx.now, ctx.zone
    languages = ", ".join(language_name(lang) for lang in data["texts"])
    at = datetime.fromisoformat(data["at"])
    # Translators: the moment of sending in the summary line "When: now"
    moment = _("now") if at <= now else when(at, zone)
    text = _("Send this broadcast?\nLanguages: {languages}\nTo: {cohort}\nWhen: {moment}").format(
        languages=languages, cohort=data["cohort"], moment=moment
    )
    return [
        Reply(
            text,
            [
                [
                    Choice(choice_id(FLOW_ID, token, "send"), _("📣 Send")),
                    Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel")),
                ]
            ],
        )
    ]


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.STAFF,
    commands=(Command("broadcast"),),
    start=start,
    on_choice=choose,
    on_text=answer,
    stores=(Broadcast,),
)
