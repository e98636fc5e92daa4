"""Broadcasts: one message to all participants or a language cohort, now or later.

The text is given per language, and a participant whose language has no text gets the
default language's. When a broadcast falls due, one outbox row per recipient is made in
one transaction (a unique key makes a second expansion impossible), and the sender
delivers them at most OPRIT_BROADCAST_RATE per second. The coordinator's progress message
is edited as deliveries come in and ends with the sent / failed / blocked counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.events import Address
from bot.conversation.replies import Reply
from bot.i18n import _, available_languages, ngettext, use_language
from db import broadcasts as broadcasts_db
from db import outbox as outbox_db
from db import people, state
from db.enums import Action, BroadcastStatus, Channel, ParticipantStatus
from db.models import Broadcast

log = logging.getLogger(__name__)

MAX_TEXT = 4000


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


def validate_texts(texts: dict[str, str], default_language: str) -> dict[str, str]:
    """Non-empty texts for known languages, including the default language."""
    cleaned = {}
    for language, text in texts.items():
        if language not in available_languages():
            raise BroadcastError(f"unknown language {language!r}")
        text = text.replace("\x00", "").strip()
        if not text:
            raise BroadcastError(f"the {language} text is empty")
        if len(text) > MAX_TEXT:
            raise BroadcastError(f"the {language} text is longer than {MAX_TEXT} characters")
        cleaned[language] = text
    if default_language not in cleaned:
        raise BroadcastError(
            f"give a text in the default language ({default_language}): everyone without "
            "a text in their own language gets that one"
        )
    return cleaned


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
    audience = len(await broadcasts_db.recipients(session, broadcast.cohort))
    return broadcast, audience


async def expand_due(session: AsyncSession, now: datetime, default_language: str) -> int:
    """Start every due broadcast: one delivery row per recipient. Returns rows made."""
    made = 0
    for broadcast in await broadcasts_db.due(session, now):
        if not await broadcasts_db.claim(session, broadcast.id):
            continue
        texts: dict[str, str] = broadcast.texts or {}
        rows = []
        for participant in await broadcasts_db.recipients(session, broadcast.cohort):
            text = texts.get(participant.language) or texts.get(default_language) or ""
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
        counts["pending"] = len(await broadcasts_db.recipients(session, broadcast.cohort))
    return Report(id=broadcast.id, recipients=sum(counts.values()), **counts)


def progress_text(result: Report, done: bool) -> str:
    """The coordinator's progress line (edited as it goes)."""
    template = (
        _("Broadcast {id} done: {sent} sent, {failed} failed, {blocked} blocked.")
        if done
        else _("Broadcast {id}: {sent} sent, {failed} failed, {blocked} blocked, {pending} to go.")
    )
    return template.format(**result.as_dict())


async def announce(
    session: AsyncSession, broadcast: Broadcast, audience: int, now: datetime
) -> None:
    """The coordinator's progress message; it is edited as deliveries come in."""
    if broadcast.progress_chat_id is None:
        return
    text = ngettext(
        "Broadcast {id}: planned for {count} person.",
        "Broadcast {id}: planned for {count} people.",
        audience,
    ).format(id=broadcast.id, count=audience)
    outbox_db.add(
        session,
        kind="progress",
        priority=outbox.PRIORITY_REPLY,
        action=Action.MESSAGE,
        chat_id=broadcast.progress_chat_id,
        payload={"text": text},
        broadcast_id=broadcast.id,
        due_at=now,
    )


async def progress_updates(session: AsyncSession, now: datetime) -> int:
    """Edit the progress messages of running broadcasts; finish the ones that are done."""
    updated = 0
    for broadcast in await broadcasts_db.in_progress(session):
        result = await report(session, broadcast)
        done = result.pending == 0
        if done:
            broadcast.status = "done"
            log.info("broadcast done", extra=result.as_dict())
        chat_id = broadcast.progress_chat_id
        if chat_id is None:
            continue
        staff = await people.staff_by_telegram_id(session, chat_id)
        with use_language(staff.language if staff else "nl"):
            text = progress_text(result, done)
        key = f"broadcast_progress:{broadcast.id}"
        message_id = await broadcasts_db.progress_message_id(session, broadcast.id)
        if message_id is not None and await state.compare_and_set(session, key, text, now):
            outbox_db.add(
                session,
                kind="progress",
                priority=outbox.PRIORITY_REPLY,
                action=Action.EDIT,
                chat_id=chat_id,
                payload={"text": text, "message_id": message_id},
                broadcast_id=broadcast.id,
                due_at=now,
            )
            updated += 1
        if done:
            outbox.to_address(
                session, Address(Channel.TELEGRAM, chat_id), [Reply(text)], now=now, kind="progress"
            )
    return updated
