"""Registration: invite codes, language choice and consent, and the staff greeting.

Codes are single use, expire, carry 80 random bits, and only their hash is stored.
An account (a Telegram user id: the only source address a chat platform gives us) that
tries five bad codes within an hour is locked out for an hour; every attempt leaves an
audit line and nothing else. There is no limit for everyone together: guessing 80 bits
from many accounts cannot succeed, and a global pause would let 20 accounts lock every
new participant out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import guide
from bot.flows import ChoiceId, choice_id, clean, display_name, new_token
from bot.i18n import _, available_languages, language_name, normalise_language, set_language
from bot.replies import Choice, Keyboard, Reply
from db import conversation, people
from db.models import Invite, Participant, Staff

FLOW = "reg"
MAX_BAD_CODES = 5
LOCKOUT = timedelta(hours=1)
CODE_BYTES = 10  # 80 bits


class InviteError(ValueError):
    """An invite cannot be made as asked (e.g. an unknown officer)."""


@dataclass(frozen=True)
class NewInvite:
    """A freshly made invite; the code exists only here, the database keeps a hash."""

    code: str
    expires_at: datetime

    def link(self, bot_username: str) -> str:
        """The deep link that opens the bot with this code."""
        return f"https://t.me/{bot_username}?start={self.code}"


def hash_code(code: str) -> str:
    """The stored form of a code."""
    return hashlib.sha256(code.strip().encode("utf-8", "replace")).hexdigest()


async def create_invite(
    session: AsyncSession,
    *,
    now: datetime,
    valid_for: timedelta,
    officer_telegram_id: int | None = None,
    name: str | None = None,
    language: str | None = None,
    created_by: int | None = None,
) -> NewInvite:
    """Make a single-use invite code and its deep link."""
    if valid_for <= timedelta(0):
        raise InviteError("the expiry must be in the future")
    if language is not None and language not in available_languages():
        raise InviteError(
            f"unknown language {language!r}; use one of {', '.join(available_languages())}"
        )
    officer_id = None
    if officer_telegram_id is not None:
        officer = await people.staff_by_telegram_id(session, officer_telegram_id)
        if officer is None or officer.role != "officer":
            raise InviteError(f"no officer with Telegram id {officer_telegram_id}")
        officer_id = officer.id
    code = secrets.token_urlsafe(CODE_BYTES)
    invite = Invite(
        code_hash=hash_code(code),
        name=display_name(name) if name and display_name(name) != "?" else None,
        language=language,
        officer_id=officer_id,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(invite)
    await session.flush()
    people.audit(
        session,
        "invite_created",
        actor="staff" if created_by else "cli",
        actor_telegram_id=created_by,
        detail={"invite_id": invite.id},
        at=now,
    )
    return NewInvite(code, invite.expires_at)


def language_choices(token: str) -> list[list[Choice]]:
    """One button per language, each named in its own language."""
    return [
        [Choice(choice_id(FLOW, token, f"lang_{lang}"), language_name(lang))]
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
                Choice(choice_id(FLOW, token, "agree"), _("👍 Agree")),
                Choice(choice_id(FLOW, token, "later"), _("Not now")),
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
    if staff.role == "coordinator":
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


async def start(
    session: AsyncSession,
    *,
    telegram_id: int,
    first_name: str,
    telegram_language: str | None,
    code: str | None,
    default_language: str,
    now: datetime,
) -> list[Reply]:
    """Handle /start, with or without an invite code."""
    staff = await people.staff_by_telegram_id(session, telegram_id)
    if staff is not None:
        set_language(staff.language)
        return [staff_greeting(staff)]
    participant = await people.participant_by_telegram_id(session, telegram_id)
    if participant is not None:
        return await _returning(session, participant, now)
    if await _locked_out(session, telegram_id, now):
        return [Reply(_("Too many wrong codes. Please wait an hour and try again."))]
    if not code:
        return [unregistered_reply()]
    invite = await people.invite_by_code_hash(session, hash_code(clean(code)[:200]))
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        reason = "unknown" if invite is None else "used" if invite.used_at else "expired"
        people.audit(
            session,
            "invite_failed",
            actor="user",
            actor_telegram_id=telegram_id,
            detail={"reason": reason},
            at=now,
        )
        if invite is not None and invite.used_at is None:
            message = _("This invite link has expired. Please ask your officer for a new one.")
        else:
            message = _(
                "This invite link does not work (anymore). "
                "Please check the link or ask your officer for a new one."
            )
        return [Reply(message)]
    language = invite.language or normalise_language(telegram_language, default_language)
    participant = Participant(
        telegram_id=telegram_id,
        name=display_name(invite.name or first_name),
        language=language,
        status="registering",
        officer_id=invite.officer_id,
        created_at=now,
    )
    session.add(participant)
    await session.flush()
    if not await people.claim_invite(session, invite.id, participant.id, now):
        raise RuntimeError("invite claimed concurrently")
    people.audit(
        session,
        "invite_used",
        actor="participant",
        actor_telegram_id=telegram_id,
        participant_id=participant.id,
        detail={"invite_id": invite.id},
        at=now,
    )
    set_language(language)
    token = new_token()
    await conversation.save_flow_state(session, telegram_id, FLOW, "language", token, {}, now)
    return [
        Reply(
            _("Welcome! 👋 I am Oprit, the chat of your re-integration officer.")
            + "\n"
            + _("Which language do you want me to use?"),
            language_choices(token),
        )
    ]


async def _returning(session: AsyncSession, participant: Participant, now: datetime) -> list[Reply]:
    set_language(participant.language)
    if participant.status == "registering":
        token = new_token()
        await conversation.save_flow_state(
            session, participant.telegram_id or 0, FLOW, "language", token, {}, now
        )
        return [Reply(_("Which language do you want me to use?"), language_choices(token))]
    if participant.status == "paused":
        participant.status = "active"
        return [
            Reply(
                _("Welcome back! Reminders and check-ins are on again."),
                keyboard=Keyboard.PARTICIPANT,
            )
        ]
    return [Reply(_("You are already registered. 🙂"), keyboard=Keyboard.PARTICIPANT)]


async def _locked_out(session: AsyncSession, telegram_id: int, now: datetime) -> bool:
    failures = await people.count_audit(session, "invite_failed", telegram_id, now - LOCKOUT)
    if failures < MAX_BAD_CODES:
        return False
    last_lock = await people.last_audit_at(session, "invite_lockout", telegram_id)
    if last_lock is None or last_lock < now - LOCKOUT:
        people.audit(session, "invite_lockout", actor="user", actor_telegram_id=telegram_id, at=now)
    return True


async def choose(
    session: AsyncSession, participant: Participant, choice: ChoiceId, now: datetime
) -> list[Reply]:
    """A button pressed during registration (language or consent)."""
    telegram_id = participant.telegram_id or 0
    state = await conversation.flow_state(session, telegram_id)
    if state is None or state.flow != FLOW or state.token != choice.token:
        return [guide.stale_button_reply()]
    token, value = state.token, choice.value
    if value.startswith("lang_") and value[5:] in available_languages():
        participant.language = value[5:]
        set_language(participant.language)
        await conversation.save_flow_state(session, telegram_id, FLOW, "consent", token, {}, now)
        return [consent_reply(token)]
    if value == "agree":
        participant.status = "active"
        participant.consent_at = now
        await conversation.clear_flow_state(session, telegram_id)
        people.audit(
            session,
            "consent_given",
            actor="participant",
            actor_telegram_id=telegram_id,
            participant_id=participant.id,
            at=now,
        )
        return [welcome_done_reply()]
    if value == "later":
        return [
            Reply(
                _(
                    "That is fine. Your messages are not saved until you agree. "
                    "When you are ready, send /start."
                )
            )
        ]
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
