"""Shared pieces of the conversation flows: choice ids and flow state tokens.

A choice id is `flow:token:value`. The token is fresh for every started flow, so a
button from an earlier check-in is recognised as stale instead of changing anything.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

MAX_CHOICE_ID_BYTES = 48  # leaves room for the signature within Telegram's 64 bytes
MAX_NAME = 64
_JOINERS = frozenset("\u200c\u200d")  # needed inside emoji and some scripts


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


def clean(text: str) -> str:
    """Text safe to keep in a plain column: no NUL bytes, no lone surrogates."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def display_name(text: str | None) -> str:
    """A person's name as it may be shown anywhere (alerts, lists, topic titles): one line,
    at most MAX_NAME characters, without control characters, and without format characters
    (Unicode Cf): direction overrides, isolates and marks in a name could reverse the text
    around it in a staff member's alert. "?" when nothing is left."""
    kept = []
    for char in clean((text or "")[: MAX_NAME * 16]):  # a name never needs more to fill 64
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp", "Cs", "Co", "Cn"):
            kept.append(" ")
        elif category == "Cf" and char not in _JOINERS:
            continue
        else:
            kept.append(char)
    name = re.sub(r"\s+", " ", "".join(kept)).strip()
    if len(name) > MAX_NAME:
        name = name[: MAX_NAME - 1].rstrip() + "…"
    return name if name.strip("".join(_JOINERS)) else "?"
