"""Each participant flow once per language: a participant who picks Arabic, Turkish or
Polish signs up, checks in, asks for help and gets a reminder without one Dutch or English
sentence (names and places aside)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import cache

import pytest
from babel.messages.pofile import read_po

from bot.engine import scheduler
from bot.i18n import LOCALES_DIR, available_languages, language_name, use_language
from bot.services import appointments
from bot.services.labels import domain_label, mood_label, status_label
from tests.clock import ManualClock
from tests.harness import Harness, running_harness

PLACEHOLDER = re.compile(r"\{[a-z_]*\}|[\u2066-\u2069\u061c\u200e\u200f]")


@cache
def _sentences(language: str) -> frozenset[str]:
    """Pieces of the catalog's texts (between placeholders), long enough to be telling."""
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    pieces: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            for line in PLACEHOLDER.sub("\n", text or "").splitlines():
                if len(line.strip()) >= 14 and not line.strip().startswith("/"):
                    pieces.add(line.strip())
    return frozenset(pieces)


def _foreign(language: str) -> frozenset[str]:
    own = _sentences(language)
    others = set(_sentences("nl")) | set(_sentences("en"))
    return frozenset(piece for piece in others if not any(piece in mine for mine in own))


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


@pytest.mark.parametrize("language", available_languages())
async def test_whole_journey_in_one_language(h: Harness, language: str) -> None:
    sam = h.user(language_code=language)  # the phone speaks it, so the welcome does too
    participant_id = await h.register(sam, language=language_name(language))
    with use_language(language):
        good, fine = mood_label("good"), status_label("fine")
        housing = domain_label("housing")
        keyboard = sam.keyboard()
    sam.send(keyboard[0])  # the check-in button, in this language
    await h.pump()
    sam.press(good)
    await h.pump()
    for _ in range(5):
        sam.press(fine)
        await h.pump()
    sam.send("Alles goed, ik zoek werk")
    await h.pump()
    sam.send(keyboard[1])  # I need help
    await h.pump()
    sam.press(housing)
    await h.pump()
    sam.send("Mijn huurbaas wil dat ik vertrek")
    await h.pump()
    sam.press("📨")
    await h.pump()
    async with h.runtime.sessions() as session, session.begin():
        await appointments.create(
            session,
            participant_id,
            at=h.clock.now() + timedelta(days=2),
            with_org="UWV",
            location="Stationsplein 1",
            note=None,
            offsets=[timedelta(days=1)],
            now=h.clock.now(),
            zone=h.runtime.settings.tz,
        )
    h.clock.advance(timedelta(days=1))
    await scheduler.send_reminders(h.runtime)
    await h.pump()
    sam.send(keyboard[2])  # my appointments
    await h.pump()
    replies = sam.replies()
    assert len(replies) >= 14
    assert any("H-0001" in text for text in replies)
    assert "UWV" in replies[-1] or "UWV" in replies[-2]
    if language in ("nl", "en"):
        return
    foreign = _foreign(language)
    leaks = [(text[:80], piece) for text in replies for piece in foreign if piece in text]
    assert leaks == [], f"{language}: Dutch or English text in the conversation"
