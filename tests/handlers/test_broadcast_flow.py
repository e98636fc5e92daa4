"""/broadcast for coordinators: guided, delivered, progress edited, final report.

What a coordinator reads is in their language (languages named in it, the cohort in
words), the summary says truthfully who gets which text and previews it, every message a
participant gets starts with a label in their own language, the final report names who
blocked the bot, and a planned broadcast can be cancelled from the chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.engine import scheduler
from bot.services import broadcasts
from db.models import Broadcast, OutboxItem, Participant
from tests.clock import ManualClock
from tests.e2e.conversation import TelegramUser
from tests.harness import Harness, running_harness

LABEL_EN = "📢 Message from the municipality:"


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def _coordinator(h: Harness, language: str = "en") -> TelegramUser:
    coordinator = h.user(first_name="Coordinator")
    await h.add_staff(coordinator, role="coordinator", name="Coordinator Test", language=language)
    return coordinator


async def _step(h: Harness, user: TelegramUser, *, send: str = "", press: str = "") -> str:
    if send:
        user.send(send)
    if press:
        user.press(press)
    await h.pump()
    return user.last_reply()


async def _compose(
    h: Harness,
    coordinator: TelegramUser,
    texts: list[tuple[str, str]],
    cohort: str = "Everyone",
    at: str | None = None,
) -> str:
    """Walk the wizard up to the summary: the default (Dutch) text first, then the other
    (language label, text) pairs; returns the summary."""
    await _step(h, coordinator, send="/broadcast")
    await _step(h, coordinator, send=texts[0][1])
    for language, text in texts[1:]:
        await _step(h, coordinator, press=language)
        await _step(h, coordinator, send=text)
    if "No more languages" in coordinator.buttons():
        await _step(h, coordinator, press="No more languages")
    await _step(h, coordinator, press=cohort)
    if at is None:
        return await _step(h, coordinator, press="Now")
    return await _step(h, coordinator, send=at)


def _last_buttons(user: TelegramUser) -> list[str]:
    """The button labels of the newest message in the chat."""
    markup = user.last_markup() or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


async def _deliver(h: Harness) -> None:
    """Start due broadcasts, send them, then let the progress and final report go out."""
    await scheduler.run_broadcasts(h.runtime)
    await h.pump()
    await scheduler.run_broadcasts(h.runtime)
    await h.pump()


async def test_guided_broadcast_with_two_languages(h: Harness) -> None:
    coordinator = await _coordinator(h)
    sam, kim = h.user(), h.user(first_name="Kim")
    await h.register(sam, language="English")
    await h.register(kim, name="Kim Test", language="Nederlands")
    coordinator.send("/broadcast")
    await h.pump()
    # the default language named in the coordinator's language, not in itself
    assert coordinator.last_reply() == "New broadcast. Write the message in Dutch."
    coordinator.send("Het loket is morgen dicht.")
    await h.pump()
    coordinator.press("English")
    await h.pump()
    coordinator.send("The office is closed tomorrow.")
    await h.pump()
    coordinator.press("No more languages")
    await h.pump()
    coordinator.press("Everyone")
    await h.pump()
    coordinator.press("Now")
    await h.pump()
    assert "Send this broadcast?" in coordinator.last_reply()
    coordinator.press("Send")
    await h.pump()
    assert "planned for 2 people" in coordinator.last_reply()
    assert _last_buttons(coordinator) == [], "a broadcast going out now has nothing to cancel"
    await scheduler.run_broadcasts(h.runtime)
    await h.pump()
    assert sam.last_reply() == f"{LABEL_EN}\nThe office is closed tomorrow."
    assert kim.last_reply() == f"{broadcasts.label('nl')}\nHet loket is morgen dicht."
    await scheduler.run_broadcasts(h.runtime)  # edits the progress and reports the end
    await h.pump()
    edits = h.api.calls("editMessageText", chat_id=coordinator.chat_id)
    assert edits and "2 sent" in edits[-1].params["text"]
    assert "done: 2 sent, 0 failed, 0 blocked" in coordinator.last_reply()


async def test_every_participant_reads_the_label_in_their_own_language(h: Harness) -> None:
    """Also for a broadcast made without the wizard (as `oprit broadcast send` does)."""
    sam, ayse = h.user(), h.user(first_name="Ayse")
    await h.register(sam, language="English")
    await h.register(ayse, name="Ayse Test", language="Türkçe")
    await h.broadcast("Het loket is dicht.")
    await h.pump()
    assert sam.last_reply() == f"{LABEL_EN}\nHet loket is dicht."
    assert ayse.last_reply() == f"{broadcasts.label('tr')}\nHet loket is dicht."
    assert sam.last_reply().splitlines()[0].startswith("📢")


async def test_the_fallback_sentence_says_who_gets_the_dutch_text(h: Harness) -> None:
    coordinator = await _coordinator(h)
    sam, ayse, ola = h.user(), h.user(first_name="Ayse"), h.user(first_name="Ola")
    await h.register(sam, language="English")
    await h.register(ayse, name="Ayse Test", language="Türkçe")
    await h.register(ola, name="Ola Test", language="Polski")
    await _step(h, coordinator, send="/broadcast")
    more = await _step(h, coordinator, send="Het loket is morgen dicht.")
    assert "Readers of Arabic, English, Polish, and Turkish get the Dutch text." in more
    more = await _step(h, coordinator, press="English")
    more = await _step(h, coordinator, send="The office is closed tomorrow.")
    assert "Readers of Arabic, Polish, and Turkish get the Dutch text." in more
    assert "Others get the" not in more
    await _step(h, coordinator, press="No more languages")
    await _step(h, coordinator, press="Everyone")
    summary = await _step(h, coordinator, press="Now")
    assert "Readers of Arabic, Polish, and Turkish get the Dutch text." in summary
    await _step(h, coordinator, press="Send")
    await _deliver(h)
    # what the sentence said is what happened
    assert ayse.last_reply() == f"{broadcasts.label('tr')}\nHet loket is morgen dicht."
    assert ola.last_reply() == f"{broadcasts.label('pl')}\nHet loket is morgen dicht."
    assert sam.last_reply() == f"{LABEL_EN}\nThe office is closed tomorrow."


async def test_a_language_cohort_without_its_own_text_is_told_so(h: Harness) -> None:
    coordinator = await _coordinator(h)
    ayse, sam = h.user(first_name="Ayse"), h.user()
    await h.register(ayse, name="Ayse Test", language="Türkçe")
    await h.register(sam, language="English")
    summary = await _compose(
        h,
        coordinator,
        [("Dutch", "Het loket is dicht."), ("English", "The office is closed.")],
        cohort="Turkish",
    )
    assert "To: everyone who reads Turkish (1 person)" in summary
    assert "Readers of Turkish get the Dutch text." in summary
    assert "Het loket is dicht." in summary
    assert "The office is closed." not in summary, "nobody in the cohort reads the English"
    await _step(h, coordinator, press="Send")
    await _deliver(h)
    assert ayse.last_reply() == f"{broadcasts.label('tr')}\nHet loket is dicht."
    assert "closed" not in " ".join(sam.replies())


async def test_no_fallback_sentence_when_every_language_has_its_text(h: Harness) -> None:
    coordinator = await _coordinator(h)
    sam = h.user()
    await h.register(sam, language="English")
    texts = [
        ("Dutch", "Het loket is dicht."),
        ("English", "The office is closed."),
        ("Arabic", "المكتب مغلق."),
        ("Turkish", "Ofis kapalı."),
        ("Polish", "Biuro jest zamknięte."),
    ]
    summary = await _compose(h, coordinator, texts)
    assert "get the" not in summary
    for _language, text in texts:
        assert text in summary


async def test_staff_read_language_names_and_the_cohort_in_their_language(h: Harness) -> None:
    coordinator = await _coordinator(h)
    sam = h.user()
    await h.register(sam, language="English")
    await _step(h, coordinator, send="/broadcast")
    await _step(h, coordinator, send="Het loket is dicht.")
    assert "Arabic" in coordinator.buttons() and "العربية" not in coordinator.buttons()
    await _step(h, coordinator, press="No more languages")
    assert coordinator.buttons() == ["Everyone", "Dutch", "Arabic", "English", "Polish", "Turkish"]
    summary = await _step(h, coordinator, press="Everyone")
    summary = await _step(h, coordinator, press="Now")
    assert "To: everyone (1 person)" in summary
    assert "all" not in summary.split()


async def test_a_dutch_coordinator_reads_arabisch(h: Harness) -> None:
    coordinator = await _coordinator(h, language="nl")
    await _step(h, coordinator, send="/broadcast")
    assert "Nederlands" in coordinator.last_reply()
    await _step(h, coordinator, send="Het loket is dicht.")
    assert "Arabisch" in coordinator.buttons()
    assert "العربية" not in coordinator.buttons() and "Türkçe" not in coordinator.buttons()


async def test_the_summary_previews_the_texts_and_counts_the_recipients(h: Harness) -> None:
    coordinator = await _coordinator(h)
    for n in range(3):
        await h.register(h.user(first_name=f"P{n}"), name=f"Deelnemer {n}")
    paused = h.user(first_name="Paused")
    paused_id = await h.register(paused, name="Paused Test")
    async with h.runtime.sessions() as session, session.begin():
        person = await session.get(Participant, paused_id)
        assert person is not None
        person.status = "paused"  # a paused participant gets no broadcasts
    long_text = "Het loket is dicht. " * 100
    summary = await _compose(
        h, coordinator, [("Dutch", long_text), ("English", "The office is closed.")]
    )
    assert "To: everyone (3 people)" in summary
    assert "When: now" in summary
    assert f"Every message starts with “{LABEL_EN}” in the reader's own language." in summary
    assert "Dutch:\nHet loket is dicht. Het loket" in summary
    assert "English:\nThe office is closed." in summary
    assert "…" in summary and len(summary) < 1500, "a long text is previewed, not repeated"
    assert _last_buttons(coordinator) == ["📣 Send", "Cancel"]


async def test_the_final_report_names_who_blocked_the_bot(h: Harness) -> None:
    coordinator = await _coordinator(h)
    other = h.user(first_name="Other")
    await h.add_staff(other, role="coordinator", name="Other Coordinator")
    sam, kim, lee = h.user(), h.user(first_name="Kim"), h.user(first_name="Lee")
    await h.register(sam, language="English")
    await h.register(kim, name="Kim Test", language="English")
    lee_id = await h.register(lee, name="Lee Test", language="English")
    async with h.runtime.sessions() as session, session.begin():
        person = await session.get(Participant, lee_id)
        assert person is not None
        person.status = "unreachable"  # blocked the bot before the broadcast
    h.api.block_chat(kim.chat_id, notify=False)  # blocks it during the broadcast
    await _compose(h, coordinator, [("Dutch", "Het loket is dicht.")])
    await _step(h, coordinator, press="Send")
    await _deliver(h)
    report = coordinator.last_reply()
    assert report.startswith("Broadcast 1 done: 1 sent, 0 failed, 2 blocked.")
    assert "Not reached (blocked the bot or deleted the chat):" in report
    assert report.splitlines()[-2:] == ["Kim Test", "Lee Test"]  # names, no ids
    assert "Test Deelnemer" not in report, "who got it is not listed"
    await scheduler.run_broadcasts(h.runtime)
    await h.pump()
    finals = [
        call.params["text"]
        for call in h.api.calls("sendMessage", chat_id=coordinator.chat_id)
        if "done:" in call.params["text"]
    ]
    assert finals == [report], "one final report (the progress message is edited to the counts)"
    assert not [text for text in other.replies() if "done:" in text], "only to whoever made it"


async def test_a_planned_broadcast_can_be_cancelled_from_its_confirmation(h: Harness) -> None:
    coordinator = await _coordinator(h)
    sam = h.user()
    await h.register(sam, language="English")
    summary = await _compose(h, coordinator, [("Dutch", "Het loket is dicht.")], at="4-12 14:00")
    assert "When: tomorrow, Friday 4 December 14:00" in summary
    await _step(h, coordinator, press="Send")
    planned = coordinator.last_reply()
    assert planned == (
        "Broadcast 1: planned for tomorrow, Friday 4 December 14:00, for 1 person (as of now)."
    )
    assert _last_buttons(coordinator) == ["Cancel broadcast 1"]
    planned_message = h.api.last_message_id(coordinator.chat_id)
    reply = await _step(h, coordinator, press="Cancel broadcast 1")
    assert reply == "Broadcast 1 is cancelled. Nobody got it."
    edited = [
        call
        for call in h.api.calls("editMessageText", chat_id=coordinator.chat_id)
        if call.params["message_id"] == planned_message
    ]
    assert edited and "cancelled" in edited[-1].params["text"]
    assert "reply_markup" not in edited[-1].params, "the Cancel button is gone"
    h.clock.advance(timedelta(days=2))
    await _deliver(h)
    assert not [text for text in sam.replies() if "loket" in text]
    async with h.runtime.sessions() as session:
        broadcast = await session.get(Broadcast, 1)
        assert broadcast is not None and broadcast.status == "cancelled"
        result = await broadcasts.report(session, broadcast)
        rows = (
            await session.scalars(select(OutboxItem).where(OutboxItem.kind == "broadcast"))
        ).all()
    assert rows == []
    assert result.as_dict() == {
        "id": 1,
        "recipients": 0,
        "sent": 0,
        "failed": 0,
        "blocked": 0,
        "pending": 0,
    }
    coordinator.send("/broadcasts")
    await h.pump()
    assert coordinator.last_reply() == "No broadcasts are planned. /broadcast makes one."


async def test_a_started_broadcast_cannot_be_cancelled(h: Harness) -> None:
    coordinator = await _coordinator(h)
    sam = h.user()
    await h.register(sam, language="English")
    await _compose(h, coordinator, [("Dutch", "Het loket is dicht.")], at="4-12 14:00")
    await _step(h, coordinator, press="Send")
    listing = await _step(h, coordinator, send="/broadcasts")
    assert listing.startswith("Planned broadcasts:\n\n#1 · tomorrow, Friday 4 December 14:00")
    assert "To: everyone (1 person)" in listing and "Het loket is dicht." in listing
    assert _last_buttons(coordinator) == ["Cancel broadcast 1"]
    h.clock.advance(timedelta(days=1, hours=5))
    await scheduler.run_broadcasts(h.runtime)  # it starts
    await h.pump()
    reply = await _step(h, coordinator, press="Cancel broadcast 1")  # on the list
    assert reply == "Broadcast 1 has already started, so it cannot be cancelled."
    assert sam.last_reply() == f"{LABEL_EN}\nHet loket is dicht."


async def test_a_cancelled_broadcast_cannot_be_cancelled_twice(h: Harness) -> None:
    coordinator = await _coordinator(h)
    await _compose(h, coordinator, [("Dutch", "Het loket is dicht.")], at="4-12 14:00")
    await _step(h, coordinator, press="Send")
    await _step(h, coordinator, send="/broadcasts")
    await _step(h, coordinator, press="Cancel broadcast 1")
    # the same button on the list, pressed again
    reply = await _step(h, coordinator, press="Cancel broadcast 1")
    assert reply == "Broadcast 1 was already cancelled."


async def test_only_coordinators_see_or_cancel_planned_broadcasts(h: Harness) -> None:
    coordinator = await _coordinator(h)
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    await _step(h, officer, send="/broadcasts")
    assert "Only coordinators" in officer.last_reply()
    await _compose(h, coordinator, [("Dutch", "Het loket is dicht.")], at="4-12 14:00")
    await _step(h, coordinator, press="Send")
    await h.add_staff(coordinator, role="officer", name="Coordinator Test")  # role changed
    reply = await _step(h, coordinator, press="Cancel broadcast 1")
    assert "Only coordinators" in reply
    async with h.runtime.sessions() as session:
        broadcast = await session.get(Broadcast, 1)
    assert broadcast is not None and broadcast.status == "scheduled"


async def test_officers_cannot_broadcast(h: Harness) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    officer.send("/broadcast")
    await h.pump()
    assert "Only coordinators" in officer.last_reply()


async def test_broadcast_buttons_check_the_role_at_the_press(h: Harness) -> None:
    coordinator = h.user(first_name="Coordinator")
    await h.add_staff(coordinator, role="coordinator", name="Coordinator Test")
    sam = h.user()
    await h.register(sam)
    for step in ("/broadcast", "Het loket is morgen dicht."):
        coordinator.send(step)
        await h.pump()
    for button in ("No more languages", "Everyone", "Now"):
        coordinator.press(button)
        await h.pump()
    assert "Send this broadcast?" in coordinator.last_reply()
    await h.add_staff(coordinator, role="officer", name="Coordinator Test")  # role changed
    coordinator.press("Send")
    await h.pump()
    assert "Only coordinators" in coordinator.last_reply()
    async with h.runtime.sessions() as session:
        made = (await session.scalars(select(Broadcast))).all()
    assert made == []


# -- hostile input in the wizard --


@pytest.mark.parametrize("empty", ["   ", "\n\t \n", "\x00"])
async def test_an_empty_text_is_asked_again(h: Harness, empty: str) -> None:
    coordinator = await _coordinator(h)
    await _step(h, coordinator, send="/broadcast")
    reply = await _step(h, coordinator, send=empty)
    assert reply == "That message is empty. Please write the text of the broadcast."
    reply = await _step(h, coordinator, send="Het loket is dicht.")
    assert "Add the same message in another language?" in reply


@pytest.mark.parametrize(
    "huge",
    ["x" * 4001, "ik heb schulden " * 20_000, "😀" * 2001],
    ids=["4001", "320k", "emoji"],
)
async def test_a_text_too_long_for_one_message_is_refused(h: Harness, huge: str) -> None:
    coordinator = await _coordinator(h)
    await _step(h, coordinator, send="/broadcast")
    reply = await _step(h, coordinator, send=huge)
    assert reply == "Please write a message of at most 4000 characters."
    async with h.runtime.sessions() as session:
        assert (await session.scalars(select(Broadcast))).all() == []


async def test_the_longest_text_still_arrives_in_one_message_with_its_label(h: Harness) -> None:
    coordinator = await _coordinator(h)
    sam = h.user()
    await h.register(sam, language="English")
    longest = "😀" * 1000 + "x" * 2000  # 4,000 as Telegram counts
    await _compose(h, coordinator, [("Dutch", longest)])
    await _step(h, coordinator, press="Send")
    await _deliver(h)
    assert sam.last_reply() == f"{LABEL_EN}\n{longest}"
    refused = [call for call in h.api.calls("sendMessage", chat_id=sam.chat_id) if not call.ok]
    assert refused == []


@pytest.mark.parametrize(
    "text",
    [
        "\u202eevil.exe\u202c lees dit",
        "المكتب مغلق غدًا. \u2067اتصل بـ 0800\u2069",
        "*vet* _schuin_ <b>html</b> `code`",
        "Ünïcödé ✓ 🇳🇱 👩‍👩‍👧 e\u0301",
    ],
    ids=["rtl-override", "arabic-isolate", "markup", "unicode"],
)
async def test_any_text_reaches_participants_exactly_and_the_summary_stays_safe(
    h: Harness, text: str
) -> None:
    coordinator = await _coordinator(h)
    sam = h.user()
    await h.register(sam, language="English")
    summary = await _compose(h, coordinator, [("Dutch", text)])
    lines = summary.splitlines()
    assert lines[0] == "Send this broadcast?"
    assert "To: everyone (1 person)" in lines
    controls = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert not controls & set(summary), "the preview cannot turn the summary around"
    await _step(h, coordinator, press="Send")
    await _deliver(h)
    assert sam.last_reply() == f"{LABEL_EN}\n{text}"
    for call in h.api.calls("sendMessage"):
        assert "parse_mode" not in call.params


async def test_nul_bytes_are_dropped_from_the_text(h: Harness) -> None:
    coordinator = await _coordinator(h)
    sam = h.user()
    await h.register(sam, language="English")
    await _compose(h, coordinator, [("Dutch", "Het\x00 loket")])
    await _step(h, coordinator, press="Send")
    await _deliver(h)
    assert sam.last_reply() == f"{LABEL_EN}\nHet loket"
