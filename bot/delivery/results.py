"""What a channel reports back for one outbox row, and what the sender needs from a
channel. The sender and the outcome handling reason only in these types; each channel
package turns its own errors into them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from db.outbox import ClaimedRow

FLOOD_CONTROL = "flood control"


@dataclass(frozen=True)
class Delivered:
    """The channel accepted the message."""

    message_id: int | None


@dataclass(frozen=True)
class Blocked:
    """The person blocked the bot or never opened a chat with it."""

    reason: str


@dataclass(frozen=True)
class RetryLater:
    """Flood control or a passing fault: try again after `seconds`."""

    seconds: float
    reason: str

    @property
    def flood_control(self) -> bool:
        """The channel said to wait: nothing else may go to that chat meanwhile."""
        return self.reason == FLOOD_CONTROL


@dataclass(frozen=True)
class Unknown:
    """The request left, but no answer came: it may have been delivered. Only for rows
    that must never go twice; they are counted and never sent again."""

    reason: str


@dataclass(frozen=True)
class ThreadGone:
    """The participant's thread in the officer group was deleted; the sender makes a new
    one."""


@dataclass(frozen=True)
class Failed:
    """The channel refused the message for good (a bad request); never retried in a loop."""

    reason: str


Outcome = Delivered | Blocked | RetryLater | ThreadGone | Unknown | Failed


class OutboundChannel(Protocol):
    """What the sender needs from a channel."""

    async def send(self, item: ClaimedRow, never_twice: Collection[str]) -> Outcome:
        """Carry out one outbox row (its `action`); a row of a kind in `never_twice` whose
        request may have arrived ends as `Unknown`."""
        ...

    async def create_thread(self, chat_id: int, title: str) -> int:
        """Make a thread (a forum topic) in a group chat; returns its id."""
        ...
