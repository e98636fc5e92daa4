"""The readable export never fails on odd stored values and stays readable text."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import use_language
from bot.services.readable_export import MAX_LINE, as_text

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["", "\u202eevil.exe\u202c", "مرحبا، كيف حالك؟", "x" * 20_000, "regel 1\nregel 2", None],
)
def test_any_message_text_is_one_readable_line(text: str | None) -> None:
    document = {
        "participant": {"name": "Sam", "language": "nl", "consent_at": "2026-12-01T10:00:00+00:00"},
        "messages": [{"direction": "in", "kind": "text", "text": text, "at": "garbage"}],
        "alerts": [{"kind": "flag", "categories": ["self_harm"], "status": "open"}],
    }
    with use_language("nl"):
        rendered = as_text(document, ZONE, NOW)
    assert rendered.startswith("Alles wat Oprit over jou heeft bewaard, op 6 dec 2026 10:00")
    (line,) = [row for row in rendered.splitlines() if row.startswith("— · Jij:")]
    assert len(line) <= MAX_LINE + 20
    assert "Zelfbeschadiging of zelfmoordgedachten (nieuw)" in rendered


def test_an_empty_record_says_nothing_was_saved() -> None:
    with use_language("en"):
        rendered = as_text({}, ZONE, NOW)
    assert "Your messages and our answers (0)" in rendered and "Nothing." in rendered


def test_the_plan_referrals_and_conditions_are_readable() -> None:
    document = {
        "plan": [
            {
                "domain": "care",
                "template": "gp",
                "title": "x",
                "due": "2027-02-14",
                "status": "open",
            },
            {"domain": "money", "template": None, "title": "\u202eevil", "status": "blocked"},
        ],
        "referrals": [{"sent_on": "2026-12-03", "status": "first_contact", "outcome": None}],
        "conditions": [{"kind": "contact_ban", "text": "Geen contact met X"}],
    }
    with use_language("en"):
        rendered = as_text(document, ZONE, NOW)
    assert "Register with a GP (family doctor) · 2027-02-14 (to do)" in rendered
    assert "2026-12-03 · first contact made" in rendered
    assert "Contact ban: Geen contact met X" in rendered
