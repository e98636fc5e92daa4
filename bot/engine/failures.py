"""When handling an update fails: keep what was sent, still answer a crisis, and tell the
person plainly; never lose the message or a button press.

The handler's transaction was rolled back; this runs in a fresh one with only the raw
update, so it must not depend on anything that may have caused the failure. The crisis
check runs in a savepoint of its own: if even that fails, the message and the apology
are still kept.
"""

from __future__ import annotations

import logging

from bot.conversation import inbound, outbox
from bot.conversation.events import ChatKind, InboundEvent
from bot.conversation.replies import Reply
from bot.i18n import _, set_language
from bot.runtime import UpdateScope
from bot.services import free_text
from db import people
from db.enums import Channel, ParticipantStatus

log = logging.getLogger(__name__)

STAFF_MESSAGE_KINDS = ("text", "photo", "voice", "document", "sticker", "location", "other")


def apology() -> Reply:
    """What a participant hears when we failed to handle their message."""
    return Reply(
        _(
            "Sorry, something went wrong on our side. Your message is saved "
            "and your officer can see it."
        )
    )


def staff_not_sent() -> Reply:
    """What a staff member hears when we failed to handle their message (maybe a relay)."""
    return Reply(_("Not sent: something went wrong on our side. Please send your message again."))


async def record_failed_update(scope: UpdateScope, event: InboundEvent | None) -> None:
    """Store a participant's message or button press, answer a crisis in it, and send a
    kind apology; tell a staff member their message was not sent."""
    if event is None or event.sender is None or event.chat_kind is ChatKind.CHANNEL:
        return
    staff = (
        await people.staff_by_telegram_id(scope.session, event.sender)
        if event.channel == Channel.TELEGRAM
        else None
    )
    if staff is not None:
        if event.kind in STAFF_MESSAGE_KINDS:
            set_language(staff.language)
            outbox.to_address(scope.session, event.address, [staff_not_sent()], now=scope.now)
        return
    if event.chat_kind is not ChatKind.PRIVATE:
        return
    participant = await people.participant_by_address(scope.session, event.channel, event.sender)
    if participant is None or participant.status == ParticipantStatus.REGISTERING:
        return
    set_language(participant.language)
    stored = await inbound.record(scope.session, participant.id, event, scope.now)
    if stored is not None and event.text and event.kind != "callback":
        try:
            async with scope.session.begin_nested():
                check = await free_text.crisis_only(
                    scope, participant, text=event.text, message_id=stored.id
                )
                outbox.to_address(
                    scope.session,
                    event.address,
                    check.replies,
                    now=scope.now,
                    priority=outbox.PRIORITY_SAFETY,
                    participant_id=participant.id,
                )
        except Exception as error:
            log.error(
                "crisis check of a failed update failed too",
                extra={"update_id": event.update_id, "error": type(error).__name__},
            )
    outbox.to_address(
        scope.session, event.address, [apology()], now=scope.now, participant_id=participant.id
    )
