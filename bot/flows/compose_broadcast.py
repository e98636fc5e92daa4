"""/broadcast for coordinators: text per language, cohort, now or later, then confirm;
/broadcasts lists the planned ones, each with a Cancel button.

Everything the coordinator reads is in their own language: languages are named in it
("Arabic", not "العربية"), the cohort too ("To: everyone", not `all`). The summary shows
the texts as participants will read them, how many people it reaches, and which readers
get another language's text, by the same rule the delivery uses
(bot.services.broadcasts.text_for).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from babel.lists import format_list

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.events import InboundEvent
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Reply
from bot.flows import guide
from bot.i18n import _, available_languages, current_language, language_name, ngettext, when
from bot.services import broadcasts
from bot.timeparse import parse_date, parse_time
from db.enums import Role
from db.models import Broadcast

FLOW_ID = "bc"
# Buttons on a planned broadcast (its progress message, the /broadcasts list) outlive the
# wizard, so they carry this fixed token instead of the wizard's; the broadcast's status,
# checked at the press, is what makes a second press harmless.
PLANNED_MARK = "p"
CANCEL_PLANNED = "x."
PREVIEW_CHARS = 300
PREVIEW_LINES = 8
LIST_LIMIT = 10
# Direction overrides, embeddings and isolates: in a preview they could turn the summary
# lines around them; the participants get the text exactly as written.
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A)],
    None,
)


def not_coordinator() -> Reply:
    """Only coordinators broadcast."""
    return Reply(_("Only coordinators can send broadcasts."))


def _language(code: str) -> str:
    """A language named in the reader's language ("Arabic" for an English reader)."""
    return language_name(code, current_language())


def _languages(codes: Iterable[str]) -> str:
    """Several languages as one list ("Arabic, Polish and Turkish")."""
    return format_list([_language(code) for code in codes], locale=current_language())


def _cohort(cohort: str) -> str:
    """A cohort as a coordinator reads it."""
    if cohort.startswith("language:"):
        # Translators: a broadcast's audience, as in "To: everyone who reads Arabic"
        return _("everyone who reads {language}").format(language=_language(cohort[9:]))
    # Translators: a broadcast's audience, as in "To: everyone"
    return _("everyone")


def _audience(cohort: str, count: int) -> str:
    return ngettext("To: {cohort} ({count} person)", "To: {cohort} ({count} people)", count).format(
        cohort=_cohort(cohort), count=count
    )


def _fallback_line(texts: Mapping[str, str], cohort: str, default_language: str) -> str | None:
    """Who gets another language's text, or None when everyone reads their own."""
    found = broadcasts.fallback(texts, cohort, default_language)
    if found is None:
        return None
    # Translators: {languages} is a list of languages ("Arabic, Polish and Turkish"),
    # {language} the language of the text they get instead ("Dutch")
    return _("Readers of {languages} get the {language} text.").format(
        languages=_languages(found.languages), language=_language(found.language)
    )


def _preview(text: str, chars: int = PREVIEW_CHARS) -> str:
    """The start of a text, for the coordinator to check."""
    lines = text.translate(_BIDI_CONTROLS).strip().splitlines()
    shown = "\n".join(lines[:PREVIEW_LINES])
    cut = len(lines) > PREVIEW_LINES or len(shown) > chars
    return shown[:chars].rstrip() + "…" if cut else shown


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
                language=_language(default_language)
            ),
            [[Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel"))]],
        )
    ]


def _more_languages(data: dict[str, Any], token: str, default_language: str) -> Reply:
    missing = [lang for lang in available_languages() if lang not in data["texts"]]
    rows = [
        [Choice(choice_id(FLOW_ID, token, f"lang.{lang}"), _language(lang))] for lang in missing
    ]
    rows.append([Choice(choice_id(FLOW_ID, token, "langs_done"), _("No more languages"))])
    lines = [_("Add the same message in another language?")]
    line = _fallback_line(data["texts"], "all", default_language)
    if line is not None:
        lines.append(line)
    return Reply("\n".join(lines), rows)


def _cohorts(token: str) -> Reply:
    rows = [[Choice(choice_id(FLOW_ID, token, "cohort.all"), _("Everyone"))]]
    rows += [
        [Choice(choice_id(FLOW_ID, token, f"cohort.language:{lang}"), _language(lang))]
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
        written = broadcasts.clean_text(text)
        if not written:
            return [Reply(_("That message is empty. Please write the text of the broadcast."))]
        if broadcasts.too_long(written):
            return [Reply(_("Please write a message of at most 4000 characters."))]
        data["texts"] = {**data["texts"], language: written}
        if all(lang in data["texts"] for lang in available_languages()):
            await ctx.save_state(FLOW_ID, "cohort", state.token, data)
            return [_cohorts(state.token)]
        await ctx.save_state(FLOW_ID, "languages", state.token, data)
        return [_more_languages(data, state.token, ctx.settings.default_language)]
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
    if choice.token == PLANNED_MARK and choice.value.startswith(CANCEL_PLANNED):
        return await _cancel_planned(ctx, choice.value[len(CANCEL_PLANNED) :])
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
        return [Reply(_("Write the message in {language}.").format(language=_language(value[5:])))]
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
        await broadcasts.announce(
            ctx.session,
            broadcast,
            audience,
            now,
            zone=ctx.zone,
            choices=[[_cancel_choice(broadcast.id)]],
        )
        return []
    return [guide.stale_button_reply()]


async def _summary(ctx: FlowContext, data: dict[str, Any], token: str) -> list[Reply]:
    await ctx.save_state(FLOW_ID, "confirm", token, data)
    now, zone, default_language = ctx.now, ctx.zone, ctx.settings.default_language
    texts: dict[str, str] = data["texts"]
    cohort: str = data["cohort"]
    at = datetime.fromisoformat(data["at"])
    count = await broadcasts.count_recipients(ctx.session, cohort)
    # Translators: the moment of sending in the summary line "When: now"
    moment = _("now") if at <= now else when(at, zone, now)
    lines = [
        _("Send this broadcast?"),
        _audience(cohort, count),
        _("When: {moment}").format(moment=moment),
        # Translators: {label} is the label itself, e.g. "📢 Message from the municipality:"
        _("Every message starts with “{label}” in the reader's own language.").format(
            label=broadcasts.label(current_language())
        ),
    ]
    # The texts somebody in the cohort gets, in the order they were written.
    read = {
        broadcasts.text_for(texts, lang, default_language)[0]
        for lang in broadcasts.cohort_languages(cohort)
    }
    for language, text in texts.items():
        if language in read:
            lines += ["", f"{_language(language)}:", _preview(text)]
    line = _fallback_line(texts, cohort, default_language)
    if line is not None:
        lines += ["", line]
    return [
        Reply(
            "\n".join(lines),
            [
                [
                    Choice(choice_id(FLOW_ID, token, "send"), _("📣 Send")),
                    Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel")),
                ]
            ],
        )
    ]


def _cancel_choice(broadcast_id: int) -> Choice:
    return Choice(
        choice_id(FLOW_ID, PLANNED_MARK, f"{CANCEL_PLANNED}{broadcast_id}"),
        _("Cancel broadcast {id}").format(id=broadcast_id),
    )


async def _cancel_planned(ctx: FlowContext, raw_id: str) -> list[Reply]:
    """The Cancel button of a planned broadcast."""
    if not raw_id.isdigit():
        return [guide.stale_button_reply()]
    broadcast_id = int(raw_id)
    outcome = await broadcasts.cancel(ctx.session, broadcast_id, ctx.now)
    if outcome is broadcasts.Cancelled.CANCELLED:
        return [Reply(broadcasts.cancelled_text(broadcast_id))]
    if outcome is broadcasts.Cancelled.STARTED:
        return [
            Reply(
                _("Broadcast {id} has already started, so it cannot be cancelled.").format(
                    id=broadcast_id
                )
            )
        ]
    return [Reply(_("Broadcast {id} was already cancelled.").format(id=broadcast_id))]


async def planned_list(ctx: FlowContext, args: str) -> list[Reply]:
    """/broadcasts: the broadcasts that have not started, each with a Cancel button."""
    assert ctx.staff is not None
    if ctx.staff.role != Role.COORDINATOR:
        return [not_coordinator()]
    found = await broadcasts.planned(ctx.session, LIST_LIMIT)
    if not found:
        return [Reply(_("No broadcasts are planned. /broadcast makes one."))]
    lines = [_("Planned broadcasts:")]
    for broadcast in found:
        lines += ["", await _planned_line(ctx, broadcast)]
    rows = [[_cancel_choice(broadcast.id)] for broadcast in found]
    return [Reply("\n".join(lines), rows)]


async def _planned_line(ctx: FlowContext, broadcast: Broadcast) -> str:
    count = await broadcasts.count_recipients(ctx.session, broadcast.cohort)
    texts: dict[str, str] = broadcast.texts or {}
    first = next(iter(texts.values()), "")
    moment = when(broadcast.send_at, ctx.zone, ctx.now)
    return "\n".join(
        [f"#{broadcast.id} · {moment}", _audience(broadcast.cohort, count), _preview(first, 80)]
    )


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.STAFF,
    commands=(
        Command("broadcast", lambda: _("Send a message to all participants")),
        Command("broadcasts", lambda: _("Planned broadcasts"), start=planned_list),
    ),
    start=start,
    on_choice=choose,
    on_text=answer,
    stores=(Broadcast,),
)
