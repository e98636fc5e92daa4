"""The shape of every flow, and the context a flow step runs in.

A flow is one module in bot/flows/ that declares a `Flow`: its id, how it starts (commands,
a keyboard button, a scheduled prompt), its steps (`on_choice` for a pressed button,
`on_text` for what the person writes while they are in the flow) and the tables it writes.
bot.flows lists every flow once; the dispatcher (bot.engine.dispatch) routes
commands, buttons and typed answers through that list, and the channels render what a
step returns. A step never sees a channel: it gets a `FlowContext` and returns `Reply`s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import CheckinSchedule, Settings
from bot.conversation.choices import ChoiceId
from bot.conversation.events import Address, InboundEvent
from bot.conversation.replies import Reply
from bot.runtime import Runtime, Tx
from db import flow_states
from db.flow_states import Owner
from db.models import Base, ConversationState, Participant, Staff

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


class Audience(StrEnum):
    """Who a flow is for."""

    PARTICIPANT = "participant"
    STAFF = "staff"
    ANYONE = "anyone"  # sign-up: before the sender is anyone


Replies = list[Reply]
Start = Callable[["FlowContext", str], Awaitable[Replies]]
OnChoice = Callable[["FlowContext", ChoiceId], Awaitable[Replies]]
OnText = Callable[["FlowContext", InboundEvent], Awaitable[Replies | None]]


@dataclass(frozen=True)
class Command:
    """A command that starts a flow (at its own `start`, else the flow's); `describe`
    gives its line in the command menu (None: not in the menu)."""

    name: str
    describe: Callable[[], str] | None = None
    start: Start | None = None


@dataclass
class FlowContext:
    """Everything a flow step may use: the transaction, the person, where replies go."""

    tx: Tx
    participant: Participant | None = None
    staff: Staff | None = None
    channel: str = "telegram"
    address: Address | None = None
    event: InboundEvent | None = None

    @property
    def session(self) -> AsyncSession:
        """The transaction's session."""
        return self.tx.session

    @property
    def now(self) -> datetime:
        """The moment of the update (or of the scheduled run)."""
        return self.tx.now

    @property
    def runtime(self) -> Runtime:
        """Settings, routing, keys and metrics of this process."""
        return self.tx.runtime

    @property
    def settings(self) -> Settings:
        """The process's settings."""
        return self.tx.settings

    @property
    def zone(self) -> ZoneInfo:
        """The zone times are shown in."""
        return self.tx.settings.tz

    @property
    def owner(self) -> Owner:
        """Whose flow state this context reads and writes."""
        if self.participant is not None:
            return Owner(participant_id=self.participant.id, channel=self.channel)
        assert self.staff is not None, "a flow step runs for a participant or a staff member"
        return Owner(staff_id=self.staff.id, channel=self.channel)

    async def state(self) -> ConversationState | None:
        """The flow this person is in, if any."""
        return await flow_states.get(self.session, self.owner)

    async def save_state(self, flow: str, step: str, token: str, data: dict[str, Any]) -> None:
        """Remember where this person is (replacing any earlier flow)."""
        await flow_states.save(self.session, self.owner, flow, step, token, data, self.now)

    async def clear_state(self) -> None:
        """This person finished or left their flow."""
        await flow_states.clear(self.session, self.owner)


@dataclass(frozen=True)
class Prompt:
    """A scheduled prompt: at `schedule` (local time), `send` queues the prompt for every
    participant it is for (in the transaction of `tx`) and returns how many it queued.
    `slot_key` is where the last slot sent is kept, so a slot goes out once across
    restarts and workers."""

    schedule: Callable[[Settings], CheckinSchedule]
    send: Callable[[Tx], Awaitable[int]]
    slot_key: str


@dataclass(frozen=True)
class Flow:
    """One flow (see the module docstring)."""

    id: str
    audience: Audience
    commands: Sequence[Command] = ()
    keyboard: Callable[[], str] | None = None  # its button on the participant's keyboard
    start: Start | None = None
    on_choice: OnChoice | None = None
    on_text: OnText | None = None
    # When True, a button is only taken while the person is in this flow with the token
    # the button carries (the shared check for stale and replayed buttons); flows whose
    # buttons carry a row id instead (an alert, an appointment) check that themselves.
    state_token: bool = False
    # A participant's answer by button is shown under its question, whose buttons go.
    answered_in_place: bool = False
    prompt: Prompt | None = None
    stores: tuple[type[Base], ...] = field(default_factory=tuple)

    def accepts(self, staff: Staff | None, participant: Participant | None) -> bool:
        """Whether this person may use the flow."""
        if self.audience is Audience.STAFF:
            return staff is not None
        if self.audience is Audience.PARTICIPANT:
            return participant is not None and staff is None
        return True
