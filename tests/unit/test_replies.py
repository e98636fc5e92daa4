"""Replies always fit Telegram: long text is split, captions fit, nothing is empty."""

from __future__ import annotations

import pytest

from bot.conversation.replies import Attachment, Choice, Keyboard, Reply, split_text


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@pytest.mark.parametrize(
    "text",
    ["a" * 10_000, ("regel\n" * 3000), "🙂" * 5000, "x" * 4000 + "\n" + "y" * 10, "ك" * 9000],
)
def test_long_text_is_split_without_losing_anything(text: str) -> None:
    parts = Reply(text, [[Choice("c:t:v", "OK")]], Keyboard.PARTICIPANT).parts()
    assert len(parts) > 1
    assert all(_units(part.text) <= 4000 for part in parts)
    assert "".join(part.text for part in parts).replace("\n", "") == text.replace("\n", "")
    assert parts[-1].choices and parts[-1].keyboard is Keyboard.PARTICIPANT
    assert not any(part.choices for part in parts[:-1])


def test_short_and_empty_text() -> None:
    assert [p.text for p in Reply("hoi").parts()] == ["hoi"]
    assert [p.text for p in Reply("   ").parts()] == ["…"]
    assert split_text("", 10) == ["…"]


def test_long_caption_goes_before_the_file() -> None:
    file = Attachment("a.json", b"{}", "application/json")
    parts = Reply("z" * 2000, attachment=file).parts()
    assert parts[-1].attachment is file and _units(parts[-1].text) <= 1000
    assert parts[0].text == "z" * 2000
