"""The dashboard's broadcasts page (coordinators): compose, schedule, follow, cancel.

Everything goes through the chat's broadcast service (`bot.services.broadcasts`): the
same texts per language (the default language's is required, the rest optional, and
readers without a text of their own get the default one), the same cohorts (`all`,
`language:xx`), the same 4,000-character limit and cleaning. A broadcast made here has
no progress chat: the page shows the progress. Nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.i18n import _, available_languages
from bot.runtime import Tx
from bot.services import broadcasts
from db import audit
from db import broadcasts as broadcasts_db
from db.enums import BroadcastStatus, Role
from db.models import Broadcast, Staff

HISTORY = 20  # broadcasts listed on the page


@dataclass(frozen=True)
class Row:
    """One broadcast in the history, with where its delivery stands."""

    broadcast: Broadcast
    report: broadcasts.Report

    @property
    def running(self) -> bool:
        """Still changing: planned or going out."""
        return self.broadcast.status in (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)


@dataclass(frozen=True)
class Page:
    """What the page shows besides the form."""

    languages: Sequence[str]  # the default language first
    readers: Mapping[str, int]  # recipients now per language
    rows: Sequence[Row]


def allowed(staff: Staff) -> bool:
    """Only coordinators broadcast (officers get the page's 404)."""
    return staff.role == Role.COORDINATOR


def _audit(tx: Tx, staff: Staff, action: str, broadcast_id: int) -> None:
    audit.add(
        tx.session,
        action,
        actor="staff",
        actor_telegram_id=staff.telegram_id,
        participant_id=None,
        detail={"via": "web", "broadcast": broadcast_id},
        at=tx.now,
    )


def languages(default_language: str) -> list[str]:
    """The languages a text can be given in, the default (required) one first."""
    return [default_language, *(lang for lang in available_languages() if lang != default_language)]


async def page(tx: Tx) -> Page:
    """The history and the audience per language."""
    rows = [
        Row(broadcast, await broadcasts.report(tx.session, broadcast))
        for broadcast in await broadcasts_db.recent(tx.session, HISTORY)
    ]
    return Page(
        languages(tx.settings.default_language),
        await broadcasts_db.count_by_language(tx.session),
        rows,
    )


async def mark(tx: Tx) -> str:
    """A short string that changes when the history's state or counts change (polled)."""
    rows = (await page(tx)).rows
    return (
        ";".join(
            f"{row.broadcast.id}.{row.broadcast.status}.{row.report.sent}.{row.report.failed}."
            f"{row.report.blocked}.{row.report.pending}"
            for row in rows
            if row.running
        )
        + f"|{rows[0].broadcast.id if rows else 0}"
    )


def problems(
    texts: Mapping[str, str], cohort: str, send_at: datetime | None, tx: Tx
) -> dict[str, str]:
    """Why the form cannot be sent, per field (empty: it can), in the reader's language,
    by the chat's rules: the default language's text required, at most 4,000 characters
    each, a known cohort, a moment still to come."""
    found: dict[str, str] = {}
    default_language = tx.settings.default_language
    for language in languages(default_language):
        text = broadcasts.clean_text(texts.get(language, ""))
        if broadcasts.too_long(text):
            found[language] = _("Please write a message of at most 4000 characters.")
        elif not text and language == default_language:
            found[language] = _("That message is empty. Please write the text of the broadcast.")
    try:
        broadcasts.validate_cohort(cohort)
    except broadcasts.BroadcastError:
        # Translators: on the dashboard's broadcast form, when no valid audience was chosen
        found["cohort"] = _("Choose who gets it.")
    if send_at is not None and send_at <= tx.now:
        found["when"] = _("That moment has passed. Type a later time.")
    return found


async def create(
    tx: Tx, staff: Staff, texts: Mapping[str, str], cohort: str, send_at: datetime | None
) -> Broadcast:
    """Store a broadcast checked by `problems` (None: now); audited."""
    given = {
        language: text
        for language, text in texts.items()
        if language in available_languages() and broadcasts.clean_text(text)
    }
    broadcast, _audience = await broadcasts.create(
        tx.session,
        texts=given,
        cohort=cohort,
        send_at=send_at or tx.now,
        default_language=tx.settings.default_language,
        now=tx.now,
        created_by=staff.id,
    )
    _audit(tx, staff, "web_broadcast_created", broadcast.id)
    tx.runtime.wake_outbox()
    return broadcast


async def cancel(tx: Tx, staff: Staff, broadcast_id: int) -> broadcasts.Cancelled:
    """Call off a planned broadcast (audited when it was)."""
    outcome = await broadcasts.cancel(tx.session, broadcast_id, tx.now)
    if outcome is broadcasts.Cancelled.CANCELLED:
        _audit(tx, staff, "web_broadcast_cancelled", broadcast_id)
    return outcome
