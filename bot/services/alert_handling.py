"""Acknowledging and resolving an alert, the same from a chat button and from the
dashboard: the alert and its help request change state, the participant hears that their
request was picked up or resolved, the topic title and the alert messages show who did it."""

from __future__ import annotations

from bot.conversation import outbox
from bot.conversation.replies import Reply
from bot.i18n import _, use_language
from bot.runtime import Tx
from bot.services import staff_alerts, threads
from bot.services.labels import help_reference
from db.enums import AlertStatus, HelpStatus
from db.models import Alert, HelpRequest, Participant, Staff


async def acknowledge(tx: Tx, staff: Staff, alert: Alert, participant: Participant) -> bool:
    """Pick up an open alert; False when it was not open (pressed twice, or someone else
    was first: the alert shows who)."""
    if alert.status != AlertStatus.OPEN:
        return False
    now = tx.now
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at, alert.acknowledged_by = now, staff.id
    request = await _request_of(tx, alert)
    if request is not None and request.status == HelpStatus.OPEN:
        request.status, request.acknowledged_at, request.handled_by = (
            HelpStatus.ACKNOWLEDGED,
            now,
            staff.id,
        )
        _tell_participant(tx, participant, request)
    await threads.refresh_title(tx, participant)
    await staff_alerts.show_handled(tx, alert, participant, request, staff)
    return True


async def resolve(tx: Tx, staff: Staff, alert: Alert, participant: Participant) -> bool:
    """Close an alert (and its help request); False when it was resolved already."""
    if alert.status == AlertStatus.RESOLVED:
        return False
    now = tx.now
    alert.status = AlertStatus.RESOLVED
    alert.acknowledged_at = alert.acknowledged_at or now
    alert.acknowledged_by = alert.acknowledged_by or staff.id
    request = await _request_of(tx, alert)
    if request is not None and request.status != HelpStatus.RESOLVED:
        request.status, request.resolved_at, request.handled_by = (
            HelpStatus.RESOLVED,
            now,
            staff.id,
        )
        _tell_participant(tx, participant, request)
    await threads.refresh_title(tx, participant)
    await staff_alerts.show_handled(tx, alert, participant, request, staff)
    return True


async def _request_of(tx: Tx, alert: Alert) -> HelpRequest | None:
    if alert.help_request_id is None:
        return None
    return await tx.session.get(HelpRequest, alert.help_request_id)


def status_change_reply(request: HelpRequest) -> Reply:
    """What the participant hears when the officer acknowledges or resolves a request."""
    reference = help_reference(request.id)
    if request.status == HelpStatus.RESOLVED:
        return Reply(_("Your request {reference} is resolved. ✅").format(reference=reference))
    return Reply(
        _("Your officer has picked up your request {reference}.").format(reference=reference)
    )


def _tell_participant(tx: Tx, participant: Participant, request: HelpRequest) -> None:
    with use_language(participant.language):
        notice = status_change_reply(request)
    outbox.to_participant(tx.session, participant, [notice], now=tx.now)
