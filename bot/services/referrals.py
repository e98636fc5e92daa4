"""Referrals: the officer connected the participant with a partner organisation. A
referral moves forward only: sent → accepted → first contact → closed, or declined on the
way; each step keeps its date. When the partner has made no first contact STALE_WORKDAYS
working days (Monday to Friday; public holidays are not known) after it was sent, the
officer is alerted, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import outbox
from bot.conversation.replies import Reply
from bot.i18n import _, use_language
from bot.runtime import Tx
from bot.services import alerts, appointments
from bot.services.labels import domain_label
from bot.services.plan import MAX_NOTES, PlanError, checked_text, local_today
from db import audit, people
from db import plans as plans_db
from db.enums import AlertKind, ReferralStatus
from db.models import Partner, Referral

STALE_WORKDAYS = 10
# How far along each status is; a referral only moves to a later one.
_RANK = {
    ReferralStatus.SENT: 0,
    ReferralStatus.ACCEPTED: 1,
    ReferralStatus.FIRST_CONTACT: 2,
    ReferralStatus.CLOSED: 3,
    ReferralStatus.DECLINED: 3,
}
STATUSES = tuple(status.value for status in ReferralStatus)


def parse_status(value: str) -> ReferralStatus:
    """A status as typed (`first-contact` and `first_contact` both work)."""
    try:
        return ReferralStatus(value.strip().replace("-", "_"))
    except ValueError:
        raise PlanError(
            f"unknown status {value[:40]!r}; use accepted, first-contact, closed or declined"
        ) from None


def _day(on: date | None, now: datetime, zone: tzinfo) -> date:
    today = local_today(now, zone)
    if on is not None and on > today:
        raise PlanError("the date is in the future")
    return on or today


async def add(
    session: AsyncSession,
    participant_id: int,
    partner_id: int,
    *,
    now: datetime,
    zone: tzinfo,
    note: str | None = None,
    sent_on: date | None = None,
    introduce: bool = False,
) -> Referral:
    """Record that the participant was referred to a partner (every check first);
    `introduce` also sends the participant a warm introduction to the partner."""
    participant = await people.participant_by_id(session, participant_id)
    if participant is None:
        raise PlanError(f"no participant with id {participant_id}")
    partner = await plans_db.partner_by_id(session, partner_id)
    if partner is None:
        raise PlanError(f"no partner with id {partner_id}; see 'oprit partner list'")
    if introduce and not appointments.reachable(participant):
        raise PlanError(
            "the participant cannot be reached in the chat (not signed up yet, or stopped "
            "the bot); add the referral without --introduce and tell them in person"
        )
    kept_note = checked_text(note, "the note", MAX_NOTES, required=False)
    referral = Referral(
        participant_id=participant_id,
        partner_id=partner_id,
        status=ReferralStatus.SENT,
        sent_on=_day(sent_on, now, zone),
        note=kept_note,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    await session.flush()
    audit.add(
        session,
        "referral_added",
        actor="cli",
        participant_id=participant_id,
        detail={"referral_id": referral.id, "partner_id": partner_id, "introduced": introduce},
        at=now,
    )
    if introduce:
        with use_language(participant.language):
            text = introduction(partner)
        outbox.to_participant(
            session, participant, [Reply(text)], now=now, priority=outbox.PRIORITY_REPLY
        )
    return referral


def introduction(partner: Partner) -> str:
    """The warm introduction in the current language: who will get in touch, from where,
    and what they help with (the partner's domain)."""
    domain = domain_label(partner.domain)
    if partner.contact:
        # Translators: {contact} is a person's first name, {partner} an organisation
        text = _(
            "🤝 {contact} from {partner} will contact you this week. "
            "They can help you with {domain}."
        ).format(contact=partner.contact, partner=partner.name, domain=domain)
    else:
        text = _(
            "🤝 Someone from {partner} will contact you this week. They can help you with {domain}."
        ).format(partner=partner.name, domain=domain)
    return text + "\n" + _("Your officer arranged this. Questions? Just write to me.")


async def update(
    session: AsyncSession,
    referral_id: int,
    status: ReferralStatus,
    *,
    now: datetime,
    zone: tzinfo,
    outcome: str | None = None,
    on: date | None = None,
) -> Referral:
    """Move a referral forward to `status` on `on` (default today)."""
    referral = await session.get(Referral, referral_id)
    if referral is None:
        raise PlanError(f"no referral with id {referral_id}")
    current = ReferralStatus(referral.status)
    if _RANK[status] <= _RANK[current] or _RANK[current] == _RANK[ReferralStatus.CLOSED]:
        raise PlanError(f"a referral that is {current} cannot become {status}")
    day = _day(on, now, zone)
    if day < referral.sent_on:
        raise PlanError("the date is before the referral was sent")
    kept_outcome = checked_text(outcome, "the outcome", MAX_NOTES, required=False)
    referral.status = status
    referral.updated_at = now
    if status == ReferralStatus.ACCEPTED:
        referral.accepted_on = day
    elif status == ReferralStatus.FIRST_CONTACT:
        referral.first_contact_on = day
    else:
        referral.ended_on = day
    if kept_outcome is not None:
        referral.outcome = kept_outcome
    audit.add(
        session,
        "referral_updated",
        actor="cli",
        participant_id=referral.participant_id,
        detail={"referral_id": referral.id, "status": str(status)},
        at=now,
    )
    return referral


async def listed(
    session: AsyncSession, participant_id: int | None = None, waiting_only: bool = False
) -> Sequence[Referral]:
    """Referrals, oldest sent first."""
    return await plans_db.referrals(session, participant_id, waiting_only)


def referral_dict(referral: Referral) -> dict[str, Any]:
    """A referral for `oprit referral list --json` and the export."""

    def iso(day: date | None) -> str | None:
        return day.isoformat() if day else None

    return {
        "id": referral.id,
        "participant": referral.participant_id,
        "partner": referral.partner_id,
        "status": referral.status,
        "sent_on": iso(referral.sent_on),
        "accepted_on": iso(referral.accepted_on),
        "first_contact_on": iso(referral.first_contact_on),
        "ended_on": iso(referral.ended_on),
        "note": referral.note,
        "outcome": referral.outcome,
    }


def workdays_before(day: date, count: int) -> date:
    """The date `count` working days (Monday to Friday) before `day`."""
    while count > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


async def alert_stale(tx: Tx) -> int:
    """Alert the officer about referrals without first contact after STALE_WORKDAYS."""
    session, now = tx.session, tx.now
    cutoff = workdays_before(local_today(now, tx.settings.tz), STALE_WORKDAYS)
    raised = 0
    for referral in await plans_db.stale_referrals(session, cutoff):
        participant = await people.participant_by_id(session, referral.participant_id)
        partner = await plans_db.partner_by_id(session, referral.partner_id)
        if participant is None or partner is None:
            continue
        if not await plans_db.claim_stale_alert(session, referral.id, now):
            continue
        await alerts.raise_alert(
            tx,
            participant,
            kind=AlertKind.REFERRAL_STALE,
            severity="low",
            categories=[partner.domain, referral.sent_on.isoformat()],
            excerpt=partner.name,
        )
        raised += 1
    return raised
