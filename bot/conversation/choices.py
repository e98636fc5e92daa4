"""Choice ids: what a button means to the flow that made it, and flow state tokens.

A choice id is `flow:token:value`. The token is fresh for every started flow, so a
button from an earlier check-in is recognised as stale instead of changing anything.
What a channel hands back for a pressed button is the choice id with a MAC, so a client
cannot forge or alter it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bot.crypto import Keyring

MAX_CHOICE_ID_BYTES = 48  # leaves room for the signature within Telegram's 64 bytes
MAX_SIGNED_BYTES = 64  # what Telegram keeps of callback data


@dataclass(frozen=True)
class ChoiceId:
    """A parsed choice id."""

    flow: str
    token: str
    value: str


def new_token() -> str:
    """A short random token identifying one run of a flow."""
    return secrets.token_urlsafe(4)


def choice_id(flow: str, token: str, value: str) -> str:
    """Build a choice id; refuses ids that would not fit in callback data."""
    built = f"{flow}:{token}:{value}"
    if len(built.encode()) > MAX_CHOICE_ID_BYTES:
        raise ValueError(f"choice id too long: {len(built.encode())} bytes")
    return built


def parse_choice_id(raw: str) -> ChoiceId | None:
    """Split a choice id; None for anything malformed."""
    parts = raw.split(":", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return ChoiceId(*parts)


def sign_choice(keyring: Keyring, choice: str) -> str:
    """What a button carries: the choice id and its MAC."""
    return f"{choice}:{keyring.sign(choice)}"


def verify_choice(keyring: Keyring, data: str | None) -> str | None:
    """The choice id inside genuine button data; None for forged or garbled data."""
    if not data or len(data.encode()) > MAX_SIGNED_BYTES:
        return None
    choice, _sep, signature = data.rpartition(":")
    if not choice or not keyring.verify(choice, signature):
        return None
    return choice
