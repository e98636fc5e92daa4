"""A participant's own settings: language, pausing (/stop) and privacy (/privacy)."""

from __future__ import annotations

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Attachment, Choice, Keyboard, Reply
from bot.flows import guide
from bot.flows.resume import start_again_button
from bot.i18n import _, available_languages, language_name, ngettext, set_language
from bot.services import alerts, export, readable_export
from db import audit
from db.enums import AlertKind, ParticipantStatus

FLOW_ID = "acct"


async def _new_token(ctx: FlowContext, step: str) -> str:
    token = new_token()
    await ctx.save_state(FLOW_ID, step, token, {})
    return token


async def language_menu(ctx: FlowContext, args: str) -> list[Reply]:
    """/language: every language in its own name."""
    token = await _new_token(ctx, "language")
    return [
        Reply(
            _("Which language do you want me to use?"),
            [
                [Choice(choice_id(FLOW_ID, token, f"lang.{lang}"), language_name(lang))]
                for lang in available_languages()
            ],
        )
    ]


async def stop_menu(ctx: FlowContext, args: str) -> list[Reply]:
    """/stop: ask before pausing."""
    token = await _new_token(ctx, "stop")
    return [
        Reply(
            _(
                "Do you want to pause automatic messages? You will get no reminders, "
                "check-ins or messages from the municipality. Your officer will be told and "
                "can still write to you."
            ),
            [
                [
                    Choice(choice_id(FLOW_ID, token, "stop.yes"), _("Yes, pause")),
                    Choice(choice_id(FLOW_ID, token, "stop.no"), _("No, keep going")),
                ]
            ],
        )
    ]


def privacy_text(retention_days: int) -> str:
    """What is stored, who sees it, for how long, how to stop."""
    return "\n".join(
        [
            _(
                "What we save: everything you send here, your check-ins, help requests and "
                "appointments."
            ),
            _("Who sees it: only your officer and their team."),
            _keep_for(retention_days),
            _("Stop: send /stop. Want to see your data? Tap the button."),
        ]
    )


def _keep_for(retention_days: int) -> str:
    """How long, in whole years when it is (the consent text says "2 years")."""
    if retention_days % 365 == 0:
        years = retention_days // 365
        return ngettext(
            "How long: {count} year, then we delete it. The text is locked (encrypted).",
            "How long: {count} years, then we delete it. The text is locked (encrypted).",
            years,
        ).format(count=years)
    return ngettext(
        "How long: {days} day, then we delete it. The text is locked (encrypted).",
        "How long: {days} days, then we delete it. The text is locked (encrypted).",
        retention_days,
    ).format(days=retention_days)


async def privacy(ctx: FlowContext, args: str) -> list[Reply]:
    """/privacy: the explanation and *Send me my data*."""
    token = await _new_token(ctx, "privacy")
    return [
        Reply(
            privacy_text(ctx.settings.retention_days),
            [[Choice(choice_id(FLOW_ID, token, "export"), _("📦 Send me my data"))]],
        )
    ]


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """A language, pause or data-export button."""
    participant = ctx.participant
    assert participant is not None
    session, now = ctx.session, ctx.now
    await ctx.clear_state()
    step, _sep, value = choice.value.partition(".")
    if step == "lang" and value in available_languages():
        participant.language = value
        set_language(value)
        return [
            Reply(
                _("Okay, I will write in this language from now on."), keyboard=Keyboard.PARTICIPANT
            )
        ]
    if choice.value == "stop.yes":
        participant.status = ParticipantStatus.PAUSED
        await alerts.raise_alert(ctx.tx, participant, kind=AlertKind.PAUSED, severity="low")
        audit.add(
            session,
            "participant_paused",
            actor="participant",
            actor_telegram_id=participant.telegram_id,
            participant_id=participant.id,
            at=now,
        )
        return [
            Reply(
                _(
                    "Paused. You will get no reminders, check-ins or messages from the "
                    "municipality. Your officer can still write to you, and you can still "
                    "write here. To start again, tap the button or send /start."
                ),
                start_again_button(participant.id),
            )
        ]
    if choice.value == "stop.no":
        return [Reply(_("Good, we keep going. 🙂"), keyboard=Keyboard.PARTICIPANT)]
    if choice.value == "export":
        document = await export.export_participant(session, participant.id)
        audit.add(
            session,
            "export",
            actor="participant",
            actor_telegram_id=participant.telegram_id,
            participant_id=participant.id,
            at=now,
        )
        readable = readable_export.as_text(document or {}, ctx.zone, now)
        return [
            Reply(
                _("Here is everything we saved about you."),
                attachment=Attachment("my-data.txt", readable.encode("utf-8"), "text/plain"),
            ),
            Reply(
                _("The same, with every detail, for a computer:"),
                attachment=Attachment(
                    "my-data.json", export.as_json_bytes(document or {}), "application/json"
                ),
            ),
        ]
    return [guide.stale_button_reply()]


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.PARTICIPANT,
    commands=(
        Command("language", lambda: _("Change the language")),
        Command("privacy", lambda: _("What we save about you"), start=privacy),
        Command("stop", lambda: _("Pause messages from this bot"), start=stop_menu),
    ),
    keyboard=lambda: _("🌐 Language"),
    start=language_menu,
    on_choice=choose,
    state_token=True,
    answered_in_place=True,
)
