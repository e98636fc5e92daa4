"""Help requests: pick a domain, describe it in one or more messages, confirm.

The participant gets a reference (H-0042) and is told when the officer picks it up and
when it is resolved. *Urgent* raises a high alert; the text also passes through triage,
so a crisis inside a request is treated as one.
"""

from __future__ import annotations

from typing import Any

from bot.conversation.choices import ChoiceId, choice_id, new_token
from bot.conversation.events import InboundEvent
from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Choice, Keyboard, Reply
from bot.flows import guide
from bot.i18n import _
from bot.services import alerts
from bot.services.labels import HELP_DOMAINS, domain_label, help_reference, help_status_label
from db import help_requests as requests_db
from db.enums import AlertKind, HelpStatus
from db.models import HelpRequest

FLOW_ID = "hr"
MAX_TEXT = 20_000


async def start(ctx: FlowContext, args: str) -> list[Reply]:
    """/request or the help button: open requests with their status, then the domains."""
    assert ctx.participant is not None
    replies: list[Reply] = []
    open_requests = await requests_db.open_requests(ctx.session, ctx.participant.id)
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
    await ctx.save_state(FLOW_ID, "domain", token, {})
    rows = [
        [
            Choice(choice_id(FLOW_ID, token, f"domain.{d}"), domain_label(d))
            for d in HELP_DOMAINS[i : i + 2]
        ]
        for i in range(0, len(HELP_DOMAINS), 2)
    ]
    rows.append([Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel"))])
    replies.append(Reply(_("What do you need help with?"), rows))
    return replies


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """A help-request button: domain, send, or cancel."""
    state = await ctx.state()
    assert state is not None  # the registry checked the flow and its token
    data: dict[str, Any] = dict(state.data or {})
    if choice.value == "cancel":
        await ctx.clear_state()
        return [Reply(_("Stopped. Nothing was sent."), keyboard=Keyboard.PARTICIPANT)]
    step, _sep, value = choice.value.partition(".")
    if step == "domain" and state.step == "domain" and value in HELP_DOMAINS:
        data["domain"] = value
        await ctx.save_state(FLOW_ID, "describe", state.token, data)
        prompt = _(
            "Tell me what is going on. You can write, send a voice message or a photo. "
            "Tap Send when you are done."
        )
        if value == "urgent":
            prompt = _danger_line() + "\n" + prompt
        return [Reply(prompt, _send_buttons(state.token))]
    if step == "send" and state.step == "describe":
        return await submit(ctx, data)
    if state.step == "describe" and step == "domain":
        return [Reply(_("Already noted. 👍"))]
    return [guide.stale_button_reply()]


def _send_buttons(token: str) -> list[list[Choice]]:
    return [
        [
            Choice(choice_id(FLOW_ID, token, "send"), _("📨 Send")),
            Choice(choice_id(FLOW_ID, token, "cancel"), _("Cancel")),
        ]
    ]


async def describe(ctx: FlowContext, event: InboundEvent) -> list[Reply] | None:
    """A message while describing the request; None when no request is being described."""
    state = await ctx.state()
    if event.kind == "edit" or state is None or state.step != "describe":
        return None
    data: dict[str, Any] = dict(state.data or {})
    if event.text:
        data["text"] = "\n".join(filter(None, [data.get("text"), event.text]))[:MAX_TEXT]
    if event.media:
        data["media"] = [*data.get("media", []), event.media][:20]
    await ctx.save_state(FLOW_ID, "describe", state.token, data)
    return [Reply(_("Got it. Add more, or tap Send."), _send_buttons(state.token))]


async def submit(ctx: FlowContext, data: dict[str, Any]) -> list[Reply]:
    """Store the request (`domain`, `text`, `media`) and alert the officer; also used by
    *I need help with this* under a plan task."""
    participant = ctx.participant
    assert participant is not None
    if not data.get("text") and not data.get("media"):
        return [Reply(_("Please first write what is going on, or send a voice message."))]
    request = HelpRequest(
        participant_id=participant.id,
        domain=data.get("domain", "other"),
        text=data.get("text"),
        media_file_ids=data.get("media") or None,
        status=HelpStatus.OPEN,
        created_at=ctx.now,
    )
    ctx.session.add(request)
    await ctx.session.flush()
    await ctx.clear_state()
    await alerts.raise_alert(
        ctx.tx,
        participant,
        kind=AlertKind.HELP_REQUEST,
        severity="high" if request.domain == "urgent" else "medium",
        categories=[request.domain],
        excerpt=request.text,
        help_request_id=request.id,
    )
    sent = _(
        "Sent to your officer. Your reference is {reference}. "
        "I will tell you when your officer picks it up."
    ).format(reference=help_reference(request.id))
    if request.domain == "urgent":
        sent += "\n" + _danger_line()
    return [Reply(sent, keyboard=Keyboard.PARTICIPANT)]


def _danger_line() -> str:
    """Said with every urgent request: the officer may not read it at once."""
    return _("🚨 Danger? Call 112 now.")


FLOW = Flow(
    id=FLOW_ID,
    audience=Audience.PARTICIPANT,
    commands=(Command("request", lambda: _("Ask your officer for help")),),
    keyboard=lambda: _("🙋 I need help"),
    start=start,
    on_choice=choose,
    on_text=describe,
    state_token=True,
    stores=(HelpRequest,),
)
