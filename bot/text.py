"""Text made safe to keep and to show: no NUL bytes or lone surrogates, and names as one
short line."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 64
_JOINERS = frozenset("\u200c\u200d")  # needed inside emoji and some scripts


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
