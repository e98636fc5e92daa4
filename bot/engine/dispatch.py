"""Where every inbound event goes, whatever channel it came from.

First the gate: who sent it (staff are recognised by their database row, read fresh for
every update), in which language to answer, and whether it may be handled at all
(unknown people get a kind answer and only an audit line; a participant's message is
stored before anything else runs, so nothing they send is lost even if a step fails).
Then the routing, through the flow registry (bot.flows): a pressed button goes to the
flow its choice id names, a command or a keyboard button starts its flow, and anything
else a participant writes is triaged first (a crisis is answered before everything else)
and then goes to the flow waiting for it, or is acknowledged. What a staff member writes
is a message for a participant (bot.services.relay), an answer to their own guided flow,
or a question that gets the staff help.
"""

from __future__ import annotations

from bot import flows
from bot.conversation import inbound, outbox, staff_session
from bot.conversation.choices import parse_choice_id, verify_choice
from bot.conversation.events import ChatKind, InboundEvent
from bot.conversation.flow import Audience, FlowContext
from bot.conversation.replies import Keyboard, Reply
from bot.flows import guide, registration
from bot.i18n import normalise_language, set_language
from bot.runtime import UpdateScope
from bot.services import free_text, mirror, relay
from db import people
from db.enums import Action, Channel, ParticipantStatus
from db.models import Participant, Staff


def answer(
    scope: UpdateScope,
    event: InboundEvent,
    replies: list[Reply],
    *,
    priority: int = outbox.PRIORITY_REPLY,
) -> None:
    """Queue replies to the chat (and thread) the event came from."""
    if not replies:
        return
    needs_keyboard = any(reply.keyboard is Keyboard.PARTICIPANT for reply in replies)
    outbox.to_address(
        scope.session,
        event.address,
        replies,
        now=scope.now,
        priority=priority,
        participant_id=scope.participant.id if scope.participant else None,
        staff_id=scope.staff.id if scope.staff else None,
        keyboard=flows.keyboard_rows() if needs_keyboard else None,
    )


async def handle(scope: UpdateScope, event: InboundEvent) -> None:
    """Gate, store and route one event in the scope's transaction."""
    officer_group = scope.routing.officer_group
    in_officer_group = event.chat_kind is ChatKind.GROUP and event.address.chat == officer_group
    if in_officer_group and event.anonymous_admin and event.kind != "edit":
        answer(scope, event, [guide.anonymous_not_relayed()])
        return
    if event.sender is None or event.sender_is_bot or event.chat_kind is ChatKind.CHANNEL:
        return
    if event.chat_kind is ChatKind.GROUP and not in_officer_group:
        return
    choice = verify_choice(scope.runtime.keyring, event.press.data) if event.press else None
    if event.channel == Channel.TELEGRAM:
        scope.staff = await people.staff_by_telegram_id(scope.session, event.sender)
    if scope.staff is not None:
        await _from_staff(scope, scope.staff, event, choice, in_officer_group)
        return
    scope.participant = await people.participant_by_address(
        scope.session, event.channel, event.sender
    )
    if event.chat_kind is not ChatKind.PRIVATE:
        return
    await _from_participant(scope, scope.participant, event, choice)


def _context(scope: UpdateScope, event: InboundEvent) -> FlowContext:
    return FlowContext(
        tx=scope,
        participant=scope.participant,
        staff=scope.staff,
        channel=event.channel,
        address=event.address,
        event=event,
    )


async def _from_participant(
    scope: UpdateScope, participant: Participant | None, event: InboundEvent, choice: str | None
) -> None:
    command = event.command
    is_start = command is not None and command[0] == "start"
    if participant is None:
        set_language(normalise_language(event.sender_language, scope.settings.default_language))
        if not is_start:
            answer(scope, event, [registration.unregistered_reply()])
            return
        ctx = _context(scope, event)
        replies = await registration.start(ctx, command[1] if command else "")
        scope.participant = ctx.participant
        answer(scope, event, replies)
        return
    set_language(participant.language)
    if event.press is not None and choice is None:
        answer(scope, event, [guide.stale_button_reply()])
        return
    if participant.status == ParticipantStatus.REGISTERING:
        if not (is_start or (choice or "").startswith(f"{registration.FLOW_ID}:")):
            answer(scope, event, [registration.awaiting_consent_reply()])
            return
        answer(scope, event, await _route(scope, event, choice, Audience.PARTICIPANT))
        return
    stored = await inbound.record(scope.session, participant.id, event, scope.now)
    if stored is None:
        return  # delivered twice: handled the first time
    if participant.status == ParticipantStatus.UNREACHABLE:
        participant.status = ParticipantStatus.ACTIVE
    keyboard = flows.keyboard_flow(event.text) if event.kind == "text" else None
    if event.press is not None or command is not None or keyboard is not None:
        await mirror.mirror_message(scope, participant, stored, everyday=False)
        if keyboard is not None and keyboard.start is not None:
            answer(scope, event, await keyboard.start(_context(scope, event), ""))
        else:
            answer(scope, event, await _route(scope, event, choice, Audience.PARTICIPANT))
        return
    check = await free_text.crisis_only(scope, participant, text=event.text, message_id=stored.id)
    answer(scope, event, check.replies, priority=outbox.PRIORITY_SAFETY)
    seen = await mirror.mirror_message(scope, participant, stored, everyday=not check.flagged)
    routed = await waiting_flow(scope, event)
    if routed is not None:
        answer(scope, event, routed)
    elif not check.replies and not check.answered:
        acknowledge = free_text.acknowledge(
            participant, kind=event.kind, now=scope.now, seen=seen or check.flagged
        )
        answer(scope, event, acknowledge)


async def _from_staff(
    scope: UpdateScope, staff: Staff, event: InboundEvent, choice: str | None, in_forum: bool
) -> None:
    set_language(staff.language)
    staff_session.first_contact(scope.session, staff, scope.now)
    if event.command is not None:
        await relay.forget(scope.session, staff)  # any command cancels a pending *Reply*
    if event.press is not None or event.command is not None:
        answer(scope, event, await _route(scope, event, choice, Audience.STAFF))
        return
    if event.kind == "edit" or event.message_id is None:
        return
    settings = scope.settings
    target = await relay.target(
        scope.session,
        staff,
        chat_id=event.address.chat,
        replied_message_id=None if in_forum else event.reply_to,
        forum_thread_id=event.address.thread,
        in_forum=in_forum,
        now=scope.now,
        reply_window=settings.reply_window,
    )
    if target.verdict is relay.RelayVerdict.NONE:
        if in_forum:
            return  # the general topic or a staff topic: staff talking among themselves
        routed = await waiting_flow(scope, event) if event.text else None
        answer(scope, event, routed if routed is not None else [guide.staff_help(staff.role)])
        return
    if target.participant is None:
        answer(scope, event, [relay.refused(target.verdict, settings.reply_window)])
        return
    answer(
        scope,
        event,
        await relay.send(
            scope.session,
            staff,
            target.participant,
            text=event.text,
            source_chat_id=event.address.chat,
            source_message_id=event.message_id,
            source_thread_id=event.address.thread,
            kind=event.kind,
            now=scope.now,
        ),
    )


def _help_for(scope: UpdateScope) -> Reply:
    return guide.staff_help(scope.staff.role) if scope.staff else guide.participant_help()


async def _route(
    scope: UpdateScope, event: InboundEvent, choice: str | None, audience: Audience
) -> list[Reply]:
    """A button press or a command, through the flow registry."""
    ctx = _context(scope, event)
    other = Audience.PARTICIPANT if audience is Audience.STAFF else Audience.STAFF
    if event.press is not None:
        pressed = parse_choice_id(choice or "")
        flow = flows.by_id(pressed.flow) if pressed is not None else None
        if pressed is None or flow is None or flow.on_choice is None:
            return [guide.stale_button_reply()]
        if flow.audience is other:
            return [_help_for(scope)]
        if flow.state_token:
            state = await ctx.state()
            if state is None or state.flow != flow.id or state.token != pressed.token:
                return [guide.stale_button_reply()]
        replies = await flow.on_choice(ctx, pressed)
        if flow.answered_in_place and audience is Audience.PARTICIPANT:
            _show_answer(scope, event)
        return replies
    assert event.command is not None
    name, args = event.command
    found = flows.command(name, audience)
    if found is None:
        if flows.command(name, other) is not None:
            return [_help_for(scope)]
        return [guide.unknown_command_reply(), _help_for(scope)]
    flow, command = found
    start = command.start or flow.start
    assert start is not None, f"/{name} has nothing to start"
    return await start(ctx, args)


async def waiting_flow(scope: UpdateScope, event: InboundEvent) -> list[Reply] | None:
    """The answer of the flow waiting for this person's message; None when no flow is
    waiting (or it did not take the message)."""
    if event.kind == "edit":
        return None
    ctx = _context(scope, event)
    state = await ctx.state()
    flow = flows.by_id(state.flow) if state is not None else None
    if flow is None or flow.on_text is None or not flow.accepts(scope.staff, scope.participant):
        return None
    return await flow.on_text(ctx, event)


def _show_answer(scope: UpdateScope, event: InboundEvent) -> None:
    """The question the participant answered now shows the answer and no buttons, so an
    old question is never answered twice by mistake."""
    press = event.press
    if press is None or press.message_id is None or not press.question or not press.label:
        return
    outbox.call(
        scope.session,
        Action.EDIT,
        event.address,
        {"text": f"{press.question}\n\n✔️ {press.label}", "message_id": press.message_id},
        now=scope.now,
        kind="answered",
        priority=outbox.PRIORITY_REPLY,
        participant_id=scope.participant.id if scope.participant else None,
    )
