"""Help requests: pick a domain, describe it in one or more messages, confirm.

The participant gets a reference (H-0042) and is told when the officer picks it up and
when it is resolved. *Urgent* raises a high alert; the text also passes through triage,
so a crisis inside a request is treated as one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import alerts, guide
from bot.flows import ChoiceId, choice_id, new_token
from bot.i18n import _, use_language
from bot.labels import HELP_DOMAINS, domain_label, help_reference, help_status_label
from bot.replies import Choice, Keyboard, Reply
from db import conversation
from db import help_requests as requests_db
from db.models import HelpRequest, Participant

FLOW = "hr"
MAX_TEXT = 20_000


async def start(session: AsyncSession, participant: Participant, now: datetime) -> list[Reply]:
    """/request or the help button: open requests with their status, then the domains."""
    replies: list[Reply] = []
    open_requests = await requests_db.open_requests(session, participant.id)
    if open_requests:
        lines = [_("Your open requests:")]
        lines += [
            # Translators: one open help request in a list, e.g. "• H-0042 🏠 Housing: resolved"
            _("• {reference} {domain}: {status}").format(
                reference=help_reference(r.id),
                domain=domain_label(r.domain),
                status=help_status_label(r.status),
            )
            for r in open_requests
        ]
        replies.append(Reply("\n".join(lines)))
    token = new_token()
    await conversation.save_flow_state(
        session, participant.telegram_id or 0, FLOW, "domain", token, {}, now
    )
    rows = [
        [
            Choice(choice_id(FLOW, token, f"domain.{d}"), domain_label(d))
            for d in HELP_DOMAINS[i : i + 2]
        ]
        for i in range(0, len(HELP_DOMAINS), 2)
    ]
    rows.append([Choice(choice_id(FLOW, token, "cancel"), _("Cancel"))])
    replies.append(Reply(_("What do you need help with?"), rows))
    return replies


async def choose(
    session: AsyncSession, participant: Participant, choice: ChoiceId, now: datetime
) -> list[Reply]:
    """A help-request button: domain, send, or cancel."""
    telegram_id = participant.telegram_id or 0
    state = await conversation.flow_state(session, telegram_id)
    if state is None or state.flow != FLOW or state.token != choice.token:
        return [guide.stale_button_reply()]
    data: dict[str, Any] = dict(state.data or {})
    if choice.value == "cancel":
        await conversation.clear_flow_state(session, telegram_id)
        return [Reply(_("Stopped. Nothing was sent."), keyboard=Keyboard.PARTICIPANT)]
    step, _sep, value = choice.value.partition(".")
    if step == "domain" and state.step == "domain" and value in HELP_DOMAINS:
        data["domain"] = value
        await conversation.save_flow_state(
            session, telegram_id, FLOW, "describe", state.token, data, now
        )
        return [
            Reply(
                _(
                    "Tell me what is going on. You can write, send a voice message or a photo. "
                    "Tap Send when you are done."
                ),
                _send_buttons(state.token),
            )
        ]
    if step == "send" and state.step == "describe":
        return await _submit(session, participant, data, now)
    if state.step == "describe" and step == "domain":
        return [Reply(_("Already noted. 👍"))]
    return [guide.stale_button_reply()]


def _send_buttons(token: str) -> list[list[Choice]]:
    return [
        [
            Choice(choice_id(FLOW, token, "send"), _("📨 Send")),
            Choice(choice_id(FLOW, token, "cancel"), _("Cancel")),
        ]
    ]


async def describe(
    session: AsyncSession,
    participant: Participant,
    *,
    text: str | None,
    media_file_id: str | None,
    now: datetime,
) -> list[Reply] | None:
    """A message while describing the request; None when no request is being described."""
    telegram_id = participant.telegram_id or 0
    state = await conversation.flow_state(session, telegram_id)
    if state is None or state.flow != FLOW or state.step != "describe":
        return None
    data: dict[str, Any] = dict(state.data or {})
    if text:
        data["text"] = "\n".join(filter(None, [data.get("text"), text]))[:MAX_TEXT]
    if media_file_id:
        data["media"] = [*data.get("media", []), media_file_id][:20]
    await conversation.save_flow_state(
        session, telegram_id, FLOW, "describe", state.token, data, now
    )
    return [Reply(_("Got it. Add more, or tap Send."), _send_buttons(state.token))]


async def _submit(
    session: AsyncSession, participant: Participant, data: dict[str, Any], now: datetime
) -> list[Reply]:
    if not data.get("text") and not data.get("media"):
        return [Reply(_("Please first write what is going on, or send a voice message."))]
    request = HelpRequest(
        participant_id=participant.id,
        domain=data.get("domain", "other"),
        text=data.get("text"),
        media_file_ids=data.get("media") or None,
        status="open",
        created_at=now,
    )
    session.add(request)
    await session.flush()
    await conversation.clear_flow_state(session, participant.telegram_id or 0)
    await alerts.raise_alert(
        session,
        participant,
        kind="help_request",
        severity="high" if request.domain == "urgent" else "medium",
        categories=[request.domain],
        excerpt=request.text,
        help_request_id=request.id,
        now=now,
    )
    return [
        Reply(
            _(
                "Sent to your officer. Your reference is {reference}. "
                "I will tell you when your officer picks it up."
            ).format(reference=help_reference(request.id)),
            keyboard=Keyboard.PARTICIPANT,
        )
    ]


def status_change_reply(request: HelpRequest, language: str) -> Reply:
    """What the participant hears when the officer acknowledges or resolves a request."""
    with use_language(language):
        reference = help_reference(request.id)
        if request.status == "resolved":
            text = _("Your request {reference} is resolved. ✅").format(reference=reference)
        else:
            text = _("Your officer has picked up your request {reference}.").format(
                reference=reference
            )
        return Reply(text)
