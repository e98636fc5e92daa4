"""A participant's own settings: language, pausing (/stop) and privacy (/privacy)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import alerts, export, guide
from bot.flows import ChoiceId, choice_id, new_token
from bot.i18n import _, available_languages, language_name, ngettext, set_language
from bot.replies import Attachment, Choice, Keyboard, Reply
from db import conversation, people
from db.models import Participant

FLOW = "acct"


async def _new_token(
    session: AsyncSession, participant: Participant, step: str, now: datetime
) -> str:
    token = new_token()
    await conversation.save_flow_state(
        session, participant.telegram_id or 0, FLOW, step, token, {}, now
    )
    return token


async def language_menu(
    session: AsyncSession, participant: Participant, now: datetime
) -> list[Reply]:
    """/language: every language in its own name."""
    token = await _new_token(session, participant, "language", now)
    return [
        Reply(
            _("Which language do you want me to use?"),
            [
                [Choice(choice_id(FLOW, token, f"lang.{lang}"), language_name(lang))]
                for lang in available_languages()
            ],
        )
    ]


async def stop_menu(session: AsyncSession, participant: Participant, now: datetime) -> list[Reply]:
    """/stop: ask before pausing."""
    token = await _new_token(session, participant, "stop", now)
    return [
        Reply(
            _(
                "Do you want to pause this chat? You will get no reminders or check-ins. "
                "Your officer will be told."
            ),
            [
                [
                    Choice(choice_id(FLOW, token, "stop.yes"), _("Yes, pause")),
                    Choice(choice_id(FLOW, token, "stop.no"), _("No, keep going")),
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
            ngettext(
                "How long: {days} day, then we delete it. The text is locked (encrypted).",
                "How long: {days} days, then we delete it. The text is locked (encrypted).",
                retention_days,
            ).format(days=retention_days),
            _("Stop: send /stop. Want to see your data? Tap the button."),
        ]
    )


async def privacy(
    session: AsyncSession, participant: Participant, now: datetime, retention_days: int
) -> list[Reply]:
    """/privacy: the explanation and *Send me my data*."""
    token = await _new_token(session, participant, "privacy", now)
    return [
        Reply(
            privacy_text(retention_days),
            [[Choice(choice_id(FLOW, token, "export"), _("📦 Send me my data"))]],
        )
    ]


async def choose(
    session: AsyncSession, participant: Participant, choice: ChoiceId, now: datetime
) -> list[Reply]:
    """A language, pause or data-export button."""
    telegram_id = participant.telegram_id or 0
    state = await conversation.flow_state(session, telegram_id)
    if state is None or state.flow != FLOW or state.token != choice.token:
        return [guide.stale_button_reply()]
    await conversation.clear_flow_state(session, telegram_id)
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
        participant.status = "paused"
        await alerts.raise_alert(session, participant, kind="paused", severity="low", now=now)
        people.audit(
            session,
            "participant_paused",
            actor="participant",
            actor_telegram_id=telegram_id,
            participant_id=participant.id,
            at=now,
        )
        return [
            Reply(
                _(
                    "Paused. You will get no reminders or check-ins. "
                    "You can still write here. To start again, send /start."
                ),
                keyboard=Keyboard.REMOVE,
            )
        ]
    if choice.value == "stop.no":
        return [Reply(_("Good, we keep going. 🙂"), keyboard=Keyboard.PARTICIPANT)]
    if choice.value == "export":
        document = await export.export_participant(session, participant.id)
        people.audit(
            session,
            "export",
            actor="participant",
            actor_telegram_id=telegram_id,
            participant_id=participant.id,
            at=now,
        )
        return [
            Reply(
                _("Here is everything we saved about you."),
                attachment=Attachment(
                    "my-data.json", export.as_json_bytes(document or {}), "application/json"
                ),
            )
        ]
    return [guide.stale_button_reply()]
