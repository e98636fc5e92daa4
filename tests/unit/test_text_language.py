"""The language label under a quoted message follows the text, not the profile."""

from __future__ import annotations

import pytest

from bot.text_language import guess


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("thuis bij mijn moeder", "nl"),
        ("ik wil dood, ik kan niet meer", "nl"),
        ("i want to go home tomorrow", "en"),
        ("أريد أن أنهي حياتي", "ar"),
        ("ana bghit nmout", None),  # Latin-script Arabic: unsure, so no label
        ("yarın annem ile gidiyorum", "tr"),
        ("jutro idę do domu, mama jest chora", "pl"),
        ("", None),
        ("1234 !!!", None),
        ("\u202eevil.exe\u202c", None),
        ("ok", None),
    ],
)
def test_guess(text: str, language: str | None) -> None:
    assert guess(text) == language
