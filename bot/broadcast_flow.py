"""/broadcast for coordinators: text per language, cohort, now or later, then confirm."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import broadcasts, guide
from bot.flows import ChoiceId, choice_id, new_token
from bot.i18n import _, available_languages, language_name, when
from bot.officer_appointment import parse_date, parse_time
from bot.replies import Choice, Reply
from db import conversation
from db.models import Staff

FLOW = "bc"


def not_coordinator() -> Reply:
    """Only coordinators broadcast."""
    return Reply(_("Only coordinators can send broadcasts."))


async def start(
    session: AsyncSession, staff: Staff, now: datetime, default_language: str
) -> list[Reply]:
    """Ask for the text in the default language."""
    if staff.role != "coordinator":
        return [not_coordinator()]
    token = new_token()
    await conversation.save_flow_state(
        session, staff.telegram_id, FLOW, f"text.{default_language}", token, {"texts": {}}, now
    )
    return [
        Reply(
            _("New broadcast. Write the message in {language}.").format(
                language=language_name(default_language)
            ),
            [[Choice(choice_id(FLOW, token, "cancel"), _("Cancel"))]],
        )
    ]


def _more_languages(data: dict[str, Any], token: str) -> Reply:
    missing = [lang for lang in available_languages() if lang not in data["texts"]]
    rows = [
        [Choice(choice_id(FLOW, token, f"lang.{lang}"), language_name(lang))] for lang in missing
    ]
    rows.append([Choice(choice_id(FLOW, token, "langs_done"), _("No more languages"))])
    return Reply(
        _("Add the same message in another language? Others get the {language} text.").format(
            language=", ".join(language_name(lang) for lang in data["texts"])
        ),
        rows,
    )


def _cohorts(token: str) -> Reply:
    rows = [[Choice(choice_id(FLOW, token, "cohort.all"), _("Everyone"))]]
    rows += [
        [Choice(choice_id(FLOW, token, f"cohort.language:{lang}"), language_name(lang))]
        for lang in available_languages()
    ]
    return Reply(_("Who gets it?"), rows)


async def answer(
    session: AsyncSession, staff: Staff, text: str, now: datetime, zone: tzinfo
) -> list[Reply] | None:
    """Typed text in the broadcast flow; None when the coordinator is not composing."""
    state = await conversation.flow_state(session, staff.telegram_id)
    if state is None or state.flow != FLOW:
        return None
    data: dict[str, Any] = dict(state.data or {"texts": {}})
    if state.step.startswith("text."):
        language = state.step.split(".", 1)[1]
        if not text.strip() or len(text) > broadcasts.MAX_TEXT:
            return [Reply(_("Please write a message of at most 4000 characters."))]
        data["texts"] = {**data["texts"], language: text.strip()}
        await conversation.save_flow_state(
            session, staff.telegram_id, FLOW, "languages", state.token, data, now
        )
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
        return await _summary(session, staff, data, state.token, now, zone)
    return [Reply(_("Please use the buttons above."))]


async def choose(
    session: AsyncSession,
    staff: Staff,
    choice: ChoiceId,
    now: datetime,
    zone: tzinfo,
    default_language: str,
) -> list[Reply]:
    """A button in the broadcast flow."""
    if staff.role != "coordinator":
        return [not_coordinator()]
    state = await conversation.flow_state(session, staff.telegram_id)
    if state is None or state.flow != FLOW or state.token != choice.token:
        return [guide.stale_button_reply()]
    data: dict[str, Any] = dict(state.data or {"texts": {}})
    token, value = state.token, choice.value
    if value == "cancel":
        await conversation.clear_flow_state(session, staff.telegram_id)
        return [Reply(_("Stopped. Nothing was sent."))]
    if value.startswith("lang.") and value[5:] in available_languages():
        await conversation.save_flow_state(
            session, staff.telegram_id, FLOW, f"text.{value[5:]}", token, data, now
        )
        return [
            Reply(_("Write the message in {language}.").format(language=language_name(value[5:])))
        ]
    if value == "langs_done":
        await conversation.save_flow_state(
            session, staff.telegram_id, FLOW, "cohort", token, data, now
        )
        return [_cohorts(token)]
    if value.startswith("cohort."):
        data["cohort"] = broadcasts.validate_cohort(value[7:])
        await conversation.save_flow_state(
            session, staff.telegram_id, FLOW, "when", token, data, now
        )
        return [
            Reply(
                _("When? Tap Now, or type a date and time like 7-12 14:00."),
                [[Choice(choice_id(FLOW, token, "now"), _("Now"))]],
            )
        ]
    if value == "now" and state.step == "when":
        data["at"] = now.isoformat()
        return await _summary(session, staff, data, token, now, zone)
    if value == "send" and state.step == "confirm":
        await conversation.clear_flow_state(session, staff.telegram_id)
        broadcast, audience = await broadcasts.create(
            session,
            texts=data["texts"],
            cohort=data["cohort"],
            send_at=datetime.fromisoformat(data["at"]),
            default_language=default_language,
            now=now,
            created_by=staff.id,
            progress_chat_id=staff.telegram_id,
        )
        await broadcasts.announce(session, broadcast, audience, now)
        return []
    return [guide.stale_button_reply()]


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
                    Choice(choice_id(FLOW, token, "send"), _("📣 Send")),
                    Choice(choice_id(FLOW, token, "cancel"), _("Cancel")),
                ]
            ],
        )
    ]
