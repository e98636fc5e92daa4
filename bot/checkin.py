"""Check-in: mood, a quick status for each of the five life domains, then an optional note.

Answers are saved on the check-in row as they come, so a participant can stop half-way
and continue later (even after a restart). The row's token is in every button, so a
button from an older check-in is recognised and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import alerts, guide
from bot.flows import ChoiceId, choice_id, new_token
from bot.i18n import _, use_language
from bot.labels import (
    DOMAIN_STATUSES,
    LIFE_DOMAINS,
    MOODS,
    domain_question,
    mood_label,
    status_label,
)
from bot.replies import Choice, Keyboard, Reply
from db import checkins as checkins_db
from db import conversation
from db.models import Checkin, Participant

FLOW = "ci"
STEPS = ("mood", *LIFE_DOMAINS, "note")


def _question(checkin: Checkin) -> Reply:
    """The question for the check-in's current step, with its buttons."""
    step = checkin.step
    if step == "mood":
        return Reply(
            _("How are you doing?"),
            [[Choice(choice_id(FLOW, checkin.token, f"mood.{m}"), mood_label(m)) for m in MOODS]],
        )
    if step in LIFE_DOMAINS:
        return Reply(
            domain_question(step),
            [
                [
                    Choice(choice_id(FLOW, checkin.token, f"{step}.{s}"), status_label(s))
                    for s in DOMAIN_STATUSES
                ]
            ],
        )
    return Reply(
        _("Anything else you want to tell your officer? Write it or send a voice message."),
        [[Choice(choice_id(FLOW, checkin.token, "note.skip"), _("Skip"))]],
    )


def prompt_reply(checkin: Checkin) -> Reply:
    """The scheduled prompt: a greeting and the first question in one message."""
    first = _question(checkin)
    return Reply(_("Hi! Time for a short check-in.") + "\n" + first.text, first.choices)


async def start(session: AsyncSession, participant: Participant, now: datetime) -> list[Reply]:
    """/checkin or the keyboard button: a new check-in, or continue a half-done one."""
    checkin = await checkins_db.open_checkin(session, participant.id)
    replies: list[Reply] = []
    if checkin is None:
        checkin = Checkin(
            participant_id=participant.id, status="in_progress", token=new_token(), answers={}
        )
        checkin.created_at = now
        session.add(checkin)
        await session.flush()
    else:
        if checkin.answers:
            replies.append(Reply(_("Let's continue where you stopped.")))
        checkin.status = "in_progress"
        checkin.token = new_token()
    await _remember_step(session, participant, checkin, now)
    replies.append(_question(checkin))
    return replies


async def choose(
    session: AsyncSession, participant: Participant, choice: ChoiceId, now: datetime
) -> list[Reply]:
    """A check-in button: record the answer and ask the next question."""
    checkin = await checkins_db.open_checkin(session, participant.id)
    if checkin is None or checkin.token != choice.token:
        return [guide.stale_button_reply()]
    step, _sep, answer = choice.value.partition(".")
    if step != checkin.step:
        if step in (checkin.answers or {}) or (step == "mood" and checkin.mood):
            return [Reply(_("Already noted. 👍"))]
        return [guide.stale_button_reply()]
    if step == "mood" and answer in MOODS:
        checkin.mood = answer
    elif step in LIFE_DOMAINS and answer in DOMAIN_STATUSES:
        checkin.answers = {**(checkin.answers or {}), step: answer}
    elif step == "note" and answer == "skip":
        return await _complete(session, participant, checkin, now)
    else:
        return [guide.stale_button_reply()]
    checkin.status = "in_progress"
    checkin.step = STEPS[STEPS.index(step) + 1]
    await _remember_step(session, participant, checkin, now)
    return [_question(checkin)]


async def note(
    session: AsyncSession,
    participant: Participant,
    *,
    text: str | None,
    voice_file_id: str | None,
    now: datetime,
) -> list[Reply] | None:
    """Free text or a voice note at the last step; None when no check-in waits for one."""
    checkin = await checkins_db.open_checkin(session, participant.id)
    if checkin is None or checkin.step != "note":
        return None
    checkin.note = text
    checkin.voice_file_id = voice_file_id
    return await _complete(session, participant, checkin, now)


async def current_question(session: AsyncSession, participant: Participant) -> Reply | None:
    """The question the participant still has open (to repeat it), if any."""
    checkin = await checkins_db.open_checkin(session, participant.id)
    if checkin is None or checkin.status != "in_progress":
        return None
    return _question(checkin)


async def _remember_step(
    session: AsyncSession, participant: Participant, checkin: Checkin, now: datetime
) -> None:
    await conversation.save_flow_state(
        session,
        participant.telegram_id or 0,
        FLOW,
        checkin.step,
        checkin.token,
        {"checkin_id": checkin.id},
        now,
    )


async def _complete(
    session: AsyncSession, participant: Participant, checkin: Checkin, now: datetime
) -> list[Reply]:
    checkin.status = "completed"
    checkin.step = "done"
    checkin.completed_at = now
    participant.last_checkin_at = now
    participant.missed_checkins = 0
    await conversation.clear_flow_state(session, participant.telegram_id or 0)
    problems = [d for d, s in (checkin.answers or {}).items() if s == "problem"]
    if checkin.mood == "bad" or problems:
        await alerts.raise_alert(
            session,
            participant,
            kind="checkin",
            severity="medium",
            categories=problems or ["mood"],
            excerpt=checkin.note,
            now=now,
        )
        text = _("Thank you for telling me. Your officer will see this and contact you.")
    else:
        text = _("Thank you! Good to hear from you. 🙌")
    return [Reply(text, keyboard=Keyboard.PARTICIPANT)]


async def send_prompts(
    session: AsyncSession, now: datetime, missed_alert_after: int
) -> list[tuple[Participant, Reply]]:
    """Scheduled prompts: count unanswered ones as missed, alert at the threshold, and
    open a new check-in for every active participant. Returns the prompts to send."""
    prompts: list[tuple[Participant, Reply]] = []
    for participant in await checkins_db.active_participants(session):
        for earlier in await checkins_db.unanswered_prompts(session, participant.id, now):
            if earlier.status == "in_progress":
                earlier.status = "partial"
                continue
            earlier.status = "missed"
            participant.missed_checkins += 1
            if participant.missed_checkins == missed_alert_after:
                await alerts.raise_alert(
                    session,
                    participant,
                    kind="missed_checkins",
                    severity="medium",
                    categories=[str(participant.missed_checkins)],
                    now=now,
                )
        checkin = Checkin(
            participant_id=participant.id,
            status="prompted",
            token=new_token(),
            answers={},
            prompted_at=now,
            created_at=now,
        )
        session.add(checkin)
        await session.flush()
        with use_language(participant.language):
            prompts.append((participant, prompt_reply(checkin)))
    return prompts
