"""Sign-up with an invite code (/start CODE), the language choice and consent; /start
also greets staff and welcomes back a participant who paused.

An account (the sender's id on their channel: the only source address a chat platform
gives us) that tries five bad codes within an hour is locked out for an hour; every
attempt leaves an audit line and nothing else. There is no limit for everyone together:
guessing 80 bits from many accounts cannot succeed, and a global pause would let 20
accounts lock every new participant out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Keyboard, Reply
from bot.flows import guide
from bot.i18n import _, available_languages, language_name, normalise_language, set_language
from bot.services import enrolment
from bot.services.invites import hash_code
from bot.text import clean, display_name
from db import audit, people
from db.enums import Channel, ParticipantStatus, Role
from db.models import Participant, Staff

FLOW_ID = "reg"
MAX_BAD_CODES = 5
LOCKOUT = timedelta(hours=1)


def language_choices(token: str) -> list[list[Choice]]:
    """One button per language, each named in its own language."""
    return [
        [Choice(choice_id(FLOW_ID, token, f"lang_{lang}"), language_name(lang))]
        for lang in available_languages()
    ]


def consent_reply(token: str) -> Reply:
    """The plain-language consent text with Agree / Not now."""
    text = _(
        "Before we start, this is what happens with your messages:\n"
        "• Everything you send here is saved, and your officer can read it.\n"
        "• Only your officer and their team see it. We lock (encrypt) the text.\n"
        "• We delete it after 2 years, or earlier if you ask.\n"
        "• You can stop at any time with /stop.\n\n"
        "Do you agree?"
    )
    return Reply(
        text,
        [
            [
                Choice(choice_id(FLOW_ID, token, "agree"), _("👍 Agree")),
                Choice(choice_id(FLOW_ID, token, "later"), _("Not now")),
            ]
        ],
    )


def welcome_done_reply() -> Reply:
    """The first message after consent, with the persistent keyboard."""
    return Reply(
        _(
            "Thank you, you are all set. 🙌\n"
            "Use the buttons below: check in, ask for help, or see your appointments.\n"
            "You can also just write to me. Your officer reads along."
        ),
        keyboard=Keyboard.PARTICIPANT,
    )


def staff_greeting(staff: Staff) -> Reply:
    """What an officer or coordinator sees on /start."""
    if staff.role == Role.COORDINATOR:
        text = _(
            "Hello {name}. You are registered as coordinator.\n"
            "/broadcast sends a message to participants; /participants shows everyone."
        )
    else:
        text = _(
            "Hello {name}. You are registered as officer. Alerts about your participants "
            "arrive here.\n"
            "/invite makes an invite link, /participants lists your people, "
            "/case shows one person's timeline, /handled lists open alerts."
        )
    return Reply(text.format(name=staff.name), keyboard=Keyboard.REMOVE)


async def start(ctx: FlowContext, args: str) -> list[Reply]:
    """/start, with or without an invite code."""
    if ctx.staff is not None:
        set_language(ctx.staff.language)
        return [staff_greeting(ctx.staff)]
    if ctx.participant is not None:
        return await _returning(ctx, ctx.participant)
    event = ctx.event
    assert event is not None and event.sender is not None, "/start comes from someone"
    session, now, sender = ctx.session, ctx.now, event.sender
    if await _locked_out(session, sender, now):
        return [Reply(_("Too many wrong codes. Please wait an hour and try again."))]
    code = args.split()[0] if args.split() else None
    if not code:
        return [unregistered_reply()]
    invite = await people.invite_by_code_hash(session, hash_code(clean(code)[:200]))
    enrolled = await _enrolled(session, invite.participant_id if invite else None)
    # An invite for an enrolled participant works only while their record waits for it.
    taken = invite is not None and invite.participant_id is not None and enrolled is None
    if invite is None or invite.used_at is not None or taken or invite.expires_at <= now:
        reason = "unknown" if invite is None else "used" if invite.used_at or taken else "expired"
        audit.add(
            session,
            "invite_failed",
            actor="user",
            actor_telegram_id=sender,
            detail={"reason": reason},
            at=now,
        )
        if reason == "expired":
            message = _("This invite link has expired. Please ask your officer for a new one.")
        else:
            message = _(
                "This invite link does not work (anymore). "
                "Please check the link or ask your officer for a new one."
            )
        return [Reply(message)]
    language = invite.language or normalise_language(
        event.sender_language, ctx.settings.default_language
    )
    telegram = event.channel == Channel.TELEGRAM
    participant = enrolled
    if participant is None:
        participant = Participant(
            name=display_name(invite.name or event.sender_name),
            officer_id=invite.officer_id,
            created_at=now,
        )
        session.add(participant)
    # An enrolled participant (bot.services.enrolment) keeps their record and plan; the
    # chat account is linked to it here.
    participant.telegram_id = sender if telegram else None
    participant.channel = event.channel
    participant.address = None if telegram else str(sender)
    participant.language = language
    participant.status = ParticipantStatus.REGISTERING
    await session.flush()
    if not await people.claim_invite(session, invite.id, participant.id, now):
        raise RuntimeError("invite claimed concurrently")
    audit.add(
        session,
        "invite_used",
        actor="participant",
        actor_telegram_id=sender,
        participant_id=participant.id,
        detail={"invite_id": invite.id},
        at=now,
    )
    ctx.participant = participant
    set_language(language)
    token = new_token()
    await ctx.save_state(FLOW_ID, "language", token, {})
    return [
        Reply(
            _("Welcome! 👋 I am Oprit, the chat of your re-integration officer.")
            + "\n"
            + _("Which language do you want me to use?"),
            language_choices(token),
        )
    ]


async def _enrolled(session: AsyncSession, participant_id: int | None) -> Participant | None:
    """The record an invite was made for, while it still waits for its chat account."""
    if participant_id is None:
        return None
    participant = await people.participant_by_id(session, participant_id)
    if participant is None or participant.status != ParticipantStatus.IN_DETENTION:
        return None
    return participant


async def _returning(ctx: FlowContext, participant: Participant) -> list[Reply]:
    set_language(participant.language)
    if participant.status == ParticipantStatus.REGISTERING:
        token = new_token()
        await ctx.save_state(FLOW_ID, "language", token, {})
        return [Reply(_("Which language do you want me to use?"), language_choices(token))]
    if participant.status == ParticipantStatus.PAUSED:
        participant.status = ParticipantStatus.ACTIVE
        return [
            Reply(
                _("Welcome back! Reminders and check-ins are on again."),
                keyboard=Keyboard.PARTICIPANT,
            )
        ]
    return [Reply(_("You are already registered. 🙂"), keyboard=Keyboard.PARTICIPANT)]


async def _locked_out(session: AsyncSession, telegram_id: int, now: datetime) -> bool:
    failures = await audit.count(session, "invite_failed", telegram_id, now - LOCKOUT)
    if failures < MAX_BAD_CODES:
        return False
    last_lock = await audit.last_at(session, "invite_lockout", telegram_id)
    if last_lock is None or last_lock < now - LOCKOUT:
        audit.add(session, "invite_lockout", actor="user", actor_telegram_id=telegram_id, at=now)
    return True


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """A button pressed during registration (language or consent)."""
    participant = ctx.participant
    if participant is None:
        return []
    if participant.status != ParticipantStatus.REGISTERING:
        return [already_done_reply()]
    state = await ctx.state()
    if state is None or state.flow != FLOW_ID or state.token != choice.token:
        return [guide.stale_button_reply()]
    session, now = ctx.session, ctx.now
    token, value = state.token, choice.value
    if value.startswith("lang_") and value[5:] in available_languages():
        participant.language = value[5:]
        set_language(participant.language)
        await ctx.save_state(FLOW_ID, "consent", token, {})
        return [consent_reply(token)]
    if value == "agree":
        participant.status = ParticipantStatus.ACTIVE
        participant.consent_at = now
        await ctx.clear_state()
        audit.add(
            session,
            "consent_given",
            actor="participant",
            actor_telegram_id=participant.telegram_id,
            participant_id=participant.id,
            at=now,
        )
        overview = await enrolment.welcome_overview(ctx.tx, participant)
        return [welcome_done_reply(), *([overview] if overview else [])]
    if value == "later":
        return [
            Reply(
                _(
                    "That is fine. Your messages are not saved until you agree. "
                    "When you are ready, tap the button."
                ),
                [[Choice(choice_id(FLOW_ID, token, "again"), _("I am ready"))]],
            )
        ]
    if value == "again" and state.step == "consent":
        return [consent_reply(token)]
    return [Reply(_("Sorry, I did not understand that button."))]


def awaiting_consent_reply() -> Reply:
    """Anything typed before consent: not stored, and a pointer to the next step."""
    return Reply(
        _(
            "Please first finish signing up with the buttons above, "
            "or send /start to see them again."
        )
    )


def unregistered_reply() -> Reply:
    """For someone without an invite: kind, and nothing about anyone else."""
    return Reply(
        _(
            "Hello! This chat is for people who work with a re-integration officer.\n"
            "You need a personal invite link from your officer to start. "
            "Please ask them for it."
        )
    )


def already_done_reply() -> Reply:
    """A sign-up button pressed after signing up."""
    return Reply(_("You are already signed up. 🙂"), keyboard=Keyboard.PARTICIPANT)


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.ANYONE,
    commands=(Command("start"),),
    start=start,
    on_choice=choose,
    answered_in_place=True,
)
