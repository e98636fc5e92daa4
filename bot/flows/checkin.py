"""Check-in: mood, a quick status for each of the five life domains, then an optional note.

Answers are saved on the check-in row as they come, so a participant can stop half-way
and continue later (even after a restart). The row's token is in every button, so a
button from an older check-in is recognised and changes nothing.
"""

from __future__ import annotations

from bot.config import CheckinSchedule, Settings
from bot.conversation import outbox
from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.events import InboundEvent
from bot.conversation.flow import Audience, Command, Flow, FlowContext, Prompt
from bot.conversation.replies import Choice, Keyboard, Reply
from bot.flows import guide
from bot.i18n import _, use_language
from bot.runtime import Tx
from bot.services import alerts, safety
from bot.services.labels import (
    DOMAIN_STATUSES,
    LIFE_DOMAINS,
    MOODS,
    domain_question,
    mood_label,
    status_label,
)
from db import checkins as checkins_db
from db.enums import AlertKind, CheckinStatus
from db.models import Checkin

FLOW_ID = "ci"
STEPS = ("mood", *LIFE_DOMAINS, "note")


def _question(checkin: Checkin) -> Reply:
    """The question for the check-in's current step, with its buttons."""
    step = checkin.step
    if step == "mood":
        return Reply(
            _("How are you doing?"),
            [
                [
                    Choice(choice_id(FLOW_ID, checkin.token, f"mood.{m}"), mood_label(m))
                    for m in MOODS
                ]
            ],
        )
    if step in LIFE_DOMAINS:
        return Reply(
            domain_question(step),
            [
                [
                    Choice(choice_id(FLOW_ID, checkin.token, f"{step}.{s}"), status_label(s))
                    for s in DOMAIN_STATUSES
                ]
            ],
        )
    return Reply(
        _("Anything else you want to tell your officer? Write it or send a voice message."),
        [[Choice(choice_id(FLOW_ID, checkin.token, "note.skip"), _("Skip"))]],
    )


def prompt_reply(checkin: Checkin) -> Reply:
    """The scheduled prompt: a greeting and the first question in one message."""
    first = _question(checkin)
    return Reply(_("Hi! Time for a short check-in.") + "\n" + first.text, first.choices)


async def start(ctx: FlowContext, args: str) -> list[Reply]:
    """/checkin or the keyboard button: a new check-in, or continue a half-done one."""
    assert ctx.participant is not None
    checkin = await checkins_db.open_checkin(ctx.session, ctx.participant.id)
    replies: list[Reply] = []
    if checkin is None:
        checkin = Checkin(
            participant_id=ctx.participant.id,
            status=CheckinStatus.IN_PROGRESS,
            token=new_token(),
            answers={},
        )
        checkin.created_at = ctx.now
        ctx.session.add(checkin)
        await ctx.session.flush()
    else:
        if checkin.answers:
            replies.append(Reply(_("Let's continue where you stopped.")))
        checkin.status = CheckinStatus.IN_PROGRESS
        checkin.token = new_token()
    await _remember_step(ctx, checkin)
    replies.append(_question(checkin))
    return replies


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """A check-in button: record the answer and ask the next question."""
    participant = ctx.participant
    assert participant is not None
    checkin = await checkins_db.open_checkin(ctx.session, participant.id)
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
        return await _complete(ctx, checkin)
    else:
        return [guide.stale_button_reply()]
    checkin.status = CheckinStatus.IN_PROGRESS
    checkin.step = STEPS[STEPS.index(step) + 1]
    await _remember_step(ctx, checkin)
    return [_question(checkin)]


async def note(ctx: FlowContext, event: InboundEvent) -> list[Reply] | None:
    """Text or a voice note while a check-in is open: the note at the last step; at an
    earlier step the message is kept and the open question asked again."""
    assert ctx.participant is not None
    if event.kind == "edit":
        return None
    checkin = await checkins_db.open_checkin(ctx.session, ctx.participant.id)
    if checkin is None:
        return None
    if checkin.step != "note":
        if checkin.status != CheckinStatus.IN_PROGRESS:
            return None
        return [Reply(_("I saved your message. To go on with the check-in:")), _question(checkin)]
    checkin.note = event.text
    checkin.voice_file_id = event.media if event.kind == "voice" else None
    return await _complete(ctx, checkin)


async def _remember_step(ctx: FlowContext, checkin: Checkin) -> None:
    await ctx.save_state(FLOW_ID, checkin.step, checkin.token, {"checkin_id": checkin.id})


async def _complete(ctx: FlowContext, checkin: Checkin) -> list[Reply]:
    participant = ctx.participant
    assert participant is not None
    checkin.status = CheckinStatus.COMPLETED
    checkin.step = "done"
    checkin.completed_at = ctx.now
    participant.last_checkin_at = ctx.now
    participant.missed_checkins = 0
    await ctx.clear_state()
    answers = checkin.answers or {}
    if checkin.mood == "bad" or "problem" in answers.values():
        picture = [f"mood:{checkin.mood}"] if checkin.mood in ("bad", "okay") else []
        picture += [f"{domain}:{status}" for domain, status in answers.items() if status != "fine"]
        await alerts.raise_alert(
            ctx.tx,
            participant,
            kind=AlertKind.CHECKIN,
            severity="medium",
            categories=picture,
            excerpt=checkin.note,
        )
        text = _("Thank you for telling me. Your officer will see this and contact you.")
    else:
        text = _("Thank you! Good to hear from you. 🙌")
    return [Reply(text, keyboard=Keyboard.PARTICIPANT)]


async def send_prompts(tx: Tx) -> int:
    """Scheduled prompts: count unanswered ones as missed, alert at the threshold, and
    open a new check-in for every active participant. Returns how many were queued."""
    session, now = tx.session, tx.now
    queued = 0
    quiet = await safety.in_crisis(session, now)
    for participant in await checkins_db.active_participants(session):
        for earlier in await checkins_db.unanswered_prompts(session, participant.id, now):
            if earlier.status == CheckinStatus.IN_PROGRESS:
                earlier.status = CheckinStatus.PARTIAL
                continue
            earlier.status = CheckinStatus.MISSED
            participant.missed_checkins += 1
            if participant.missed_checkins == tx.settings.missed_checkins_alert:
                await alerts.raise_alert(
                    tx,
                    participant,
                    kind=AlertKind.MISSED_CHECKINS,
                    severity="medium",
                    categories=[str(participant.missed_checkins)],
                )
        if participant.id in quiet:
            await safety.tell_held_back(session, participant, safety.HeldBack.CHECKIN, now)
            continue
        checkin = Checkin(
            participant_id=participant.id,
            status=CheckinStatus.PROMPTED,
            token=new_token(),
            answers={},
            prompted_at=now,
            created_at=now,
        )
        session.add(checkin)
        await session.flush()
        with use_language(participant.language):
            prompt = prompt_reply(checkin)
        queued += outbox.to_participant(
            session,
            participant,
            [prompt],
            now=now,
            kind="prompt",
            priority=outbox.PRIORITY_PROMPT,
        )
    return queued


def _schedule(settings: Settings) -> CheckinSchedule:
    return settings.checkin_schedule


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.PARTICIPANT,
    commands=(Command("checkin", lambda: _("Tell us how you are doing")),),
    keyboard=lambda: _("✅ Check-in"),
    start=start,
    on_choice=choose,
    on_text=note,
    prompt=Prompt(schedule=_schedule, send=send_prompts, slot_key="checkin_prompt_slot"),
    stores=(Checkin,),
    answered_in_place=True,
)
