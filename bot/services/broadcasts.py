"""Broadcasts: one message to all participants or a language cohort, now or later.

The text is given per language. Which text a participant gets is `text_for`: the text in
their own language, and without one the text in the default language
(OPRIT_DEFAULT_LANGUAGE), which every broadcast has; the coordinator's wizard says so
with the same rule (`fallback`). Every message starts with a line in the participant's
own language saying it comes from the municipality (`as_received`), so nobody takes it
for a message from their officer.

When a broadcast falls due, one outbox row per recipient is made in one transaction (a
unique key makes a second expansion impossible), and the sender delivers them at most
OPRIT_BROADCAST_RATE per second. The coordinator's progress message is edited as
deliveries come in; when all are out, one final report gives the sent / failed / blocked
counts and names who blocked the bot. A broadcast that has not started can be cancelled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.events import Address
from bot.conversation.replies import Choice, Reply
from bot.i18n import FALLBACK_LANGUAGE, _, available_languages, ngettext, use_language, when
from bot.services import safety
from bot.text import clean, display_name
from db import broadcasts as broadcasts_db
from db import outbox as outbox_db
from db import people, state
from db.enums import Action, BroadcastStatus, Channel, ParticipantStatus
from db.models import Broadcast

log = logging.getLogger(__name__)

# At most this many characters as Telegram counts them (UTF-16 units), so the text and the
# label above it fit in one Telegram message (4,096).
MAX_TEXT = 4000
# The final report names at most this many blocked participants, then says how many more.
MAX_NAMED = 30


class BroadcastError(ValueError):
    """A broadcast that cannot be made as asked."""


@dataclass(frozen=True)
class Report:
    """Where a broadcast stands; recipients = sent + failed + blocked + pending."""

    id: int
    recipients: int
    sent: int
    failed: int
    blocked: int
    pending: int

    def as_dict(self) -> dict[str, int]:
        """The JSON of `oprit broadcast status`."""
        return {
            "id": self.id,
            "recipients": self.recipients,
            "sent": self.sent,
            "failed": self.failed,
            "blocked": self.blocked,
            "pending": self.pending,
        }


def validate_cohort(cohort: str) -> str:
    """`all` or `language:xx` for a language we have."""
    cohort = cohort.strip().lower()
    if cohort == "all":
        return cohort
    if cohort.startswith("language:") and cohort.split(":", 1)[1] in available_languages():
        return cohort
    raise BroadcastError(
        f"unknown cohort {cohort[:40]!r}; use all or language:LANG "
        f"({', '.join(available_languages())})"
    )


def clean_text(text: str) -> str:
    """A broadcast text as it is kept and sent: no NUL bytes or broken characters, no
    blank lines around it; everything else exactly as written."""
    return clean(text).strip()


def text_length(text: str) -> int:
    """The length Telegram counts (UTF-16 units: most emoji count twice)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def too_long(text: str) -> bool:
    """Whether a (cleaned) text is longer than a broadcast may be."""
    return text_length(text) > MAX_TEXT


def validate_texts(texts: Mapping[str, str], default_language: str) -> dict[str, str]:
    """Non-empty texts for known languages, including the default language, which comes
    first (see `text_for`)."""
    cleaned = {}
    for language, text in texts.items():
        if language not in available_languages():
            raise BroadcastError(f"unknown language {language!r}")
        text = clean_text(text)
        if not text:
            raise BroadcastError(f"the {language} text is empty")
        if too_long(text):
            raise BroadcastError(f"the {language} text is longer than {MAX_TEXT} characters")
        cleaned[language] = text
    if default_language not in cleaned:
        raise BroadcastError(
            f"give a text in the default language ({default_language}): everyone without "
            "a text in their own language gets that one"
        )
    return {default_language: cleaned.pop(default_language), **cleaned}


def text_for(texts: Mapping[str, str], language: str, default_language: str) -> tuple[str, str]:
    """The text a reader of `language` gets, and the language it is in: their own if the
    broadcast has it, else the default language's. (Every broadcast is stored with the
    default language's text first; should OPRIT_DEFAULT_LANGUAGE change before it goes
    out, that first text still reaches everyone without a text of their own.)"""
    for candidate in (language, default_language):
        if texts.get(candidate):
            return candidate, texts[candidate]
    first = next(iter(texts), default_language)
    return first, texts.get(first, "")


def cohort_languages(cohort: str) -> tuple[str, ...]:
    """The languages whose readers a cohort reaches."""
    if cohort.startswith("language:"):
        return (cohort.split(":", 1)[1],)
    return available_languages()


@dataclass(frozen=True)
class Fallback:
    """Readers of `languages` have no text of their own: they get the `language` text."""

    languages: tuple[str, ...]
    language: str


def fallback(texts: Mapping[str, str], cohort: str, default_language: str) -> Fallback | None:
    """Who in a cohort gets another language's text (by `text_for`); None when everyone
    reads their own. With the default language's text there is one such language."""
    missing = tuple(lang for lang in cohort_languages(cohort) if not texts.get(lang))
    if not missing:
        return None
    return Fallback(missing, text_for(texts, missing[0], default_language)[0])


def label(language: str) -> str:
    """The first line of every broadcast message, in the reader's language."""
    with use_language(language):
        # Translators: the first line of every broadcast a participant receives, above the
        # coordinator's text, so they know it is not a message from their own officer.
        return _("📢 Message from the municipality:")


def as_received(text: str, language: str) -> str:
    """A broadcast text as a reader of `language` receives it: the label, then the text."""
    return f"{label(language)}\n{text}"


async def create(
    session: AsyncSession,
    *,
    texts: dict[str, str],
    cohort: str,
    send_at: datetime,
    default_language: str,
    now: datetime,
    created_by: int | None = None,
    progress_chat_id: int | None = None,
) -> tuple[Broadcast, int]:
    """Store a broadcast; returns it and how many people it will reach now."""
    broadcast = Broadcast(
        texts=validate_texts(texts, default_language),
        cohort=validate_cohort(cohort),
        send_at=max(send_at, now),
        status=BroadcastStatus.SCHEDULED,
        created_by=created_by,
        progress_chat_id=progress_chat_id,
        created_at=now,
    )
    session.add(broadcast)
    await session.flush()
    return broadcast, await broadcasts_db.count_recipients(session, broadcast.cohort)


async def expand_due(session: AsyncSession, now: datetime, default_language: str) -> int:
    """Start every due broadcast: one delivery row per recipient. Returns rows made."""
    made = 0
    for broadcast in await broadcasts_db.due(session, now):
        if not await broadcasts_db.claim(session, broadcast.id):
            continue
        texts: dict[str, str] = broadcast.texts or {}
        received: dict[str, str] = {}  # per reader's language: label and text
        rows = []
        quiet = await safety.in_crisis(session, now)
        for participant in await broadcasts_db.recipients(session, broadcast.cohort):
            if participant.id in quiet:
                held = await people.participant_by_id(session, participant.id)
                if held is not None:
                    await safety.tell_held_back(session, held, safety.HeldBack.BROADCAST, now)
                continue
            language = participant.language
            if language not in received:
                received[language] = as_received(
                    text_for(texts, language, default_language)[1], language
                )
            text = received[language]
            blocked = participant.status == ParticipantStatus.UNREACHABLE
            address = outbox.address_of(participant)
            if address is None:
                continue
            rows.append(
                {
                    "kind": "broadcast",
                    "priority": outbox.PRIORITY_BROADCAST,
                    "action": Action.MESSAGE,
                    "channel": address.channel,
                    "chat_id": address.chat,
                    "payload": {"text": text},
                    "participant_id": participant.id,
                    "broadcast_id": broadcast.id,
                    "status": "blocked" if blocked else "pending",
                    "error": "unreachable before the broadcast" if blocked else None,
                    "attempts": 0,
                    "due_at": now,
                    "created_at": now,
                }
            )
        await broadcasts_db.add_deliveries(session, rows)
        broadcast.recipients = len(rows)
        made += len(rows)
        log.info("broadcast started", extra={"broadcast_id": broadcast.id, "recipients": len(rows)})
    return made


async def report(session: AsyncSession, broadcast: Broadcast) -> Report:
    """Counts for `oprit broadcast status` and the progress message."""
    counts = await broadcasts_db.report(session, broadcast.id)
    if broadcast.status == BroadcastStatus.SCHEDULED:
        counts["pending"] = await broadcasts_db.count_recipients(session, broadcast.cohort)
    return Report(id=broadcast.id, recipients=sum(counts.values()), **counts)


def progress_text(result: Report, done: bool) -> str:
    """The coordinator's progress line (edited as it goes)."""
    template = (
        _("Broadcast {id} done: {sent} sent, {failed} failed, {blocked} blocked.")
        if done
        else _("Broadcast {id}: {sent} sent, {failed} failed, {blocked} blocked, {pending} to go.")
    )
    return template.format(**result.as_dict())


def final_report(result: Report, blocked: Sequence[tuple[int, str]]) -> str:
    """The one message that ends a broadcast: the counts, and who blocked the bot."""
    text = progress_text(result, done=True)
    if not blocked:
        return text
    lines = [display_name(name) for _participant_id, name in blocked]
    named = lines[:MAX_NAMED]
    if len(lines) > len(named):
        more = len(lines) - len(named)
        named.append(
            ngettext("… and {count} more.", "… and {count} more.", more).format(count=more)
        )
    # Translators: in the final report of a broadcast, above the names of the participants
    # it did not reach because they blocked the bot (or deleted the chat)
    heading = _("Not reached (blocked the bot or deleted the chat):")
    return "\n".join([text, heading, *named])


async def announce(
    session: AsyncSession,
    broadcast: Broadcast,
    audience: int,
    now: datetime,
    *,
    zone: tzinfo | None = None,
    choices: list[list[Choice]] | None = None,
) -> None:
    """The coordinator's progress message, in the current language; it is edited as
    deliveries come in. A broadcast planned for later says when (`zone` is the zone it
    is shown in) and carries `choices` (its Cancel button); the first edit removes them."""
    if broadcast.progress_chat_id is None:
        return
    if zone is not None and broadcast.send_at > now:
        text = ngettext(
            "Broadcast {id}: planned for {moment}, for {count} person (as of now).",
            "Broadcast {id}: planned for {moment}, for {count} people (as of now).",
            audience,
        ).format(id=broadcast.id, count=audience, moment=when(broadcast.send_at, zone, now))
        reply = Reply(text, choices or [])
    else:
        text = ngettext(
            "Broadcast {id}: planned for {count} person.",
            "Broadcast {id}: planned for {count} people.",
            audience,
        ).format(id=broadcast.id, count=audience)
        reply = Reply(text)
    outbox_db.add(
        session,
        kind="progress",
        priority=outbox.PRIORITY_REPLY,
        action=Action.MESSAGE,
        chat_id=broadcast.progress_chat_id,
        payload=reply.payload(),
        broadcast_id=broadcast.id,
        due_at=now,
    )


async def count_recipients(session: AsyncSession, cohort: str) -> int:
    """How many participants a broadcast to this cohort would reach now."""
    return await broadcasts_db.count_recipients(session, cohort)


async def planned(session: AsyncSession, limit: int) -> Sequence[Broadcast]:
    """Broadcasts that have not started yet, the soonest first."""
    return await broadcasts_db.planned(session, limit)


class Cancelled(Enum):
    """What became of a request to cancel a broadcast."""

    CANCELLED = "cancelled"  # it had not started: nobody gets it
    STARTED = "started"  # it is going out or went out: too late
    GONE = "gone"  # cancelled before, or never existed


def cancelled_text(broadcast_id: int) -> str:
    """What the coordinator reads once a broadcast is cancelled."""
    return _("Broadcast {id} is cancelled. Nobody got it.").format(id=broadcast_id)


async def cancel(session: AsyncSession, broadcast_id: int, now: datetime) -> Cancelled:
    """Call off a broadcast that has not started. Its progress message (in the chat of
    whoever made it) is edited to say so, which also takes its Cancel button away."""
    if await broadcasts_db.cancel(session, broadcast_id):
        log.info("broadcast cancelled", extra={"broadcast_id": broadcast_id})
        broadcast = await broadcasts_db.by_id(session, broadcast_id)
        chat_id = broadcast.progress_chat_id if broadcast is not None else None
        message_id = await broadcasts_db.progress_message_id(session, broadcast_id)
        if chat_id is not None and message_id is not None:
            staff = await people.staff_by_telegram_id(session, chat_id)
            with use_language(staff.language if staff else FALLBACK_LANGUAGE):
                text = cancelled_text(broadcast_id)
            _edit_progress(session, broadcast_id, chat_id, message_id, text, now)
        return Cancelled.CANCELLED
    broadcast = await broadcasts_db.by_id(session, broadcast_id)
    if broadcast is not None and broadcast.status in (
        BroadcastStatus.SENDING,
        BroadcastStatus.DONE,
    ):
        return Cancelled.STARTED
    return Cancelled.GONE


def _edit_progress(
    session: AsyncSession,
    broadcast_id: int,
    chat_id: int,
    message_id: int,
    text: str,
    now: datetime,
) -> None:
    """Queue an edit of the coordinator's progress message."""
    outbox_db.add(
        session,
        kind="progress",
        priority=outbox.PRIORITY_REPLY,
        action=Action.EDIT,
        chat_id=chat_id,
        payload={"text": text, "message_id": message_id},
        broadcast_id=broadcast_id,
        due_at=now,
    )


async def progress_updates(session: AsyncSession, now: datetime) -> int:
    """Edit the progress messages of running broadcasts; finish the ones that are done
    (each once, with one final report to the coordinator who made it)."""
    updated = 0
    for broadcast in await broadcasts_db.in_progress(session):
        result = await report(session, broadcast)
        done = result.pending == 0 and await broadcasts_db.finish(session, broadcast.id)
        if result.pending == 0 and not done:
            continue  # finished by another worker, which sends the report
        if done:
            log.info("broadcast done", extra=result.as_dict())
        chat_id = broadcast.progress_chat_id
        if chat_id is None:
            continue
        staff = await people.staff_by_telegram_id(session, chat_id)
        with use_language(staff.language if staff else FALLBACK_LANGUAGE):
            text = progress_text(result, done)
            final = (
                final_report(result, await broadcasts_db.blocked_recipients(session, broadcast.id))
                if done
                else None
            )
        key = f"broadcast_progress:{broadcast.id}"
        message_id = await broadcasts_db.progress_message_id(session, broadcast.id)
        if message_id is not None and await state.compare_and_set(session, key, text, now):
            _edit_progress(session, broadcast.id, chat_id, message_id, text, now)
            updated += 1
        if final is not None:
            outbox.to_address(
                session,
                Address(Channel.TELEGRAM, chat_id),
                [Reply(final)],
                now=now,
                kind="progress",
            )
    return updated
