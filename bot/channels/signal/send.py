"""Outbox rows to Signal, and the daemon's answers as outcomes.

Choices become numbered options under the text ("1. Good … Reply with a number"), the
participant keyboard a line of words to type, a file a data-URI attachment. Every send
of the account passes one limiter (`OPRIT_SIGNAL_RATE` a second): Signal flags accounts
that send in bursts, and a rate-limit answer holds every send for as long as it says.
An unregistered number or an untrusted identity (a new phone: its safety number must be
checked, see docs/deploy.md) is a block: the participant is unreachable and the officer
alerted, as for a Telegram block.
"""

from __future__ import annotations

import base64
import logging
import math
import time
from collections.abc import Collection
from typing import Any

from bot.channels.signal import parse
from bot.channels.signal.rpc import (
    IO_ERROR,
    RATELIMIT_ERROR,
    UNTRUSTED_KEY_ERROR,
    AnswerLost,
    DaemonUnreachable,
    RpcError,
    SignalDaemon,
)
from bot.delivery.results import (
    FLOOD_CONTROL,
    Blocked,
    Delivered,
    Failed,
    Outcome,
    RetryLater,
    Unknown,
)
from bot.i18n import _, use_language
from bot.ratelimit import SlidingWindowLimiter
from bot.runtime import Runtime
from db import people
from db import signal as signal_db
from db.enums import Action
from db.outbox import ClaimedRow

log = logging.getLogger(__name__)

UNREACHABLE = "signal daemon unreachable"
RATE_LIMITED_WAIT = 60.0  # when Signal's answer says no time


def render(payload: dict[str, Any]) -> str:
    """The text of a message with its choices numbered, in the current language."""
    text = str(payload.get("text") or payload.get("caption") or "").strip()
    labels = [str(label) for row in payload.get("choices") or [] for _choice, label in row]
    lines = [text] if text else []
    if labels:
        lines.append("")
        lines += [f"{number}. {label}" for number, label in enumerate(labels, 1)]
        if len(labels) == 1:
            # Translators: under a question on Signal, which has no buttons
            lines.append(_("Reply 1, or type the word."))
        else:
            # Translators: under a question on Signal; {last} is the highest number shown
            lines.append(
                _("Reply with a number from 1 to {last}, or type the word.").format(
                    last=len(labels)
                )
            )
    keyboard = payload.get("keyboard")
    if isinstance(keyboard, list):
        words = " · ".join(str(label) for row in keyboard for label in row)
        # Translators: on Signal, instead of the keyboard buttons of Telegram
        lines += ["", _("You can type at any time: {words}").format(words=words)]
    return "\n".join(lines) or "…"


def _attachment(payload: dict[str, Any]) -> list[str]:
    """A file as the data URI signal-cli(1) documents for `--attachment`."""
    found = payload.get("attachment")
    if not isinstance(found, dict):
        return []
    content = str(found.get("content") or "").encode()
    mime = str(found.get("mime_type") or "application/octet-stream")
    name = "".join(c for c in str(found.get("filename") or "file") if c.isalnum() or c in "._-")
    return [f"data:{mime};filename={name or 'file'};base64,{base64.b64encode(content).decode()}"]


def outcome_of(results: list[dict[str, Any]], sent_at: Any) -> Outcome:
    """One recipient's result of a `send`."""
    found = results[0] if results else {"type": "SUCCESS"}
    kind = found.get("type")
    if kind == "SUCCESS":
        return Delivered(sent_at if isinstance(sent_at, int) else None)
    if kind == "UNREGISTERED_FAILURE":
        return Blocked("not on Signal (unregistered)")
    if kind == "IDENTITY_FAILURE":
        return Blocked("untrusted identity: safety number changed")
    if kind == "RATE_LIMIT_FAILURE":
        wait = found.get("retryAfterSeconds")
        return RetryLater(
            float(wait) if isinstance(wait, int) else RATE_LIMITED_WAIT, FLOOD_CONTROL
        )
    return RetryLater(0, str(kind or "failure").lower()[:60])


class SignalOutbound:
    """The outbox sender's channel for Signal chats."""

    def __init__(self, runtime: Runtime, daemon: SignalDaemon) -> None:
        self._runtime = runtime
        self._daemon = daemon
        rate = runtime.settings.signal_rate
        count, window = (math.floor(rate), 1.0) if rate >= 1 else (1, 1 / rate)
        self.limit = SlidingWindowLimiter(count, window=window)
        self._held_until = 0.0

    async def create_thread(self, chat_id: int, title: str) -> int:
        """Signal chats have no threads."""
        raise NotImplementedError("Signal chats have no threads")

    async def send(self, item: ClaimedRow, never_twice: Collection[str]) -> Outcome:
        """Carry out one outbox row."""
        if item.action == Action.COPY:
            return Failed("a file cannot cross messengers")
        if item.action != Action.MESSAGE:
            return Delivered(None)  # edits, threads, members: nothing to do on Signal
        payload = item.payload or {}
        recipient, language = await self._recipient(item)
        if recipient is None:
            return Blocked("no Signal contact")
        with use_language(language):
            params: dict[str, Any] = {"recipient": [recipient], "message": render(payload)}
        reply_to = payload.get("reply_to")
        if isinstance(reply_to, int) and reply_to > 0:
            params.update(quoteTimestamp=reply_to, quoteAuthor=recipient)
        attachments = _attachment(payload)
        if attachments:
            params["attachments"] = attachments
        wait = self._held_until - time.monotonic()
        if wait > 0:
            return RetryLater(wait, FLOOD_CONTROL)
        async with self.limit.slot(item.priority):
            try:
                result = await self._daemon.call("send", params)
            except DaemonUnreachable:
                return RetryLater(0, UNREACHABLE)
            except AnswerLost as error:
                if item.kind in never_twice:
                    return Unknown(str(error))
                return RetryLater(0, "no answer from the signal daemon")
            except RpcError as error:
                return self._refused(error)
        answer = result if isinstance(result, dict) else {}
        results = [r for r in answer.get("results") or [] if isinstance(r, dict)]
        return self._hold(outcome_of(results, answer.get("timestamp")))

    def _refused(self, error: RpcError) -> Outcome:
        if error.results:
            return self._hold(outcome_of(error.results, None))
        if error.code == UNTRUSTED_KEY_ERROR:
            return Blocked("untrusted identity: safety number changed")
        if error.code == RATELIMIT_ERROR:
            return self._hold(RetryLater(RATE_LIMITED_WAIT, FLOOD_CONTROL))
        if error.code == IO_ERROR:
            return RetryLater(0, "signal server or network error")
        log.warning("signal send refused", extra={"code": error.code})
        return Failed(f"signal refused ({error.code})")

    def _hold(self, outcome: Outcome) -> Outcome:
        """A rate limit holds every send of the account, not only this chat's."""
        if isinstance(outcome, RetryLater) and outcome.flood_control:
            self._held_until = max(self._held_until, time.monotonic() + outcome.seconds)
        return outcome

    async def _recipient(self, item: ClaimedRow) -> tuple[str | None, str]:
        """The number (or Signal id) behind the chat, and the reader's language."""
        language = self._runtime.settings.default_language
        contact_id = parse.contact_of(item.chat_id)
        async with self._runtime.sessions() as session:
            contact = await signal_db.contact_by_id(session, contact_id) if contact_id else None
            participant = (
                await people.participant_by_id(session, item.participant_id)
                if item.participant_id
                else None
            )
        if participant is not None:
            language = participant.language
        if contact is None:
            return None, language
        return contact.number or contact.uuid, language
