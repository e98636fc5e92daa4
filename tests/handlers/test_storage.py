"""Everything a participant sends is stored once, whatever it is, and answered sensibly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from db.models import Message
from tests.clock import ManualClock
from tests.harness import Harness, running_harness


@pytest.fixture
async def harness(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        yield running


async def _inbound(h: Harness, participant_id: int) -> list[Message]:
    async with h.runtime.sessions() as session:
        rows = await session.scalars(
            select(Message)
            .where(Message.participant_id == participant_id, Message.direction == "in")
            .order_by(Message.id)
        )
        return list(rows.all())


async def test_every_kind_is_one_row(harness: Harness) -> None:
    sam = harness.user()
    participant_id = await harness.register(sam)
    sam.send("eerste bericht")
    first = sam.last_message_id
    sam.send_photo(caption="mijn brief")
    sam.send_voice()
    sam.send_sticker()
    sam.send_document("brief.pdf")
    sam.send_location(52.37, 4.89)
    sam.edit(first, "eerste bericht (aangepast)")
    sam.send("/frobnicate")
    await harness.pump()
    kinds = [(m.kind, m.text) for m in await _inbound(harness, participant_id)]
    assert kinds[-8:] == [
        ("text", "eerste bericht"),
        ("photo", "mijn brief"),
        ("voice", None),
        ("sticker", None),
        ("document", None),
        ("location", "52.37,4.89"),
        ("edit", "eerste bericht (aangepast)"),
        ("command", "/frobnicate"),
    ]
    rows = await _inbound(harness, participant_id)
    assert all(
        row.media_file_id for row in rows if row.kind in ("photo", "voice", "sticker", "document")
    )
    assert "do not know that command" in sam.replies()[-2]


async def test_acknowledged_once_per_burst(harness: Harness) -> None:
    sam = harness.user()
    await harness.register(sam)
    before = len(sam.replies())
    for line in ("hoi", "ik wil iets vragen", "over mijn uitkering"):
        sam.send(line)
    await harness.pump()
    assert len(sam.replies()) == before + 1


async def test_redelivered_update_is_stored_and_answered_once(harness: Harness) -> None:
    sam = harness.user()
    participant_id = await harness.register(sam)
    sam.send("dit bericht komt twee keer binnen")
    raw = harness.api.message(sam.chat_id, sam.last_message_id)
    assert raw is not None
    await harness.pump()
    replies_before = len(sam.replies())
    harness.api.push_update({"message": raw})  # same chat + message id, new update_id
    await harness.pump()
    texts = [m.text for m in await _inbound(harness, participant_id)]
    assert texts.count("dit bericht komt twee keer binnen") == 1
    assert len(sam.replies()) == replies_before


async def test_outbound_messages_are_stored(harness: Harness) -> None:
    sam = harness.user()
    participant_id = await harness.register(sam)
    async with harness.runtime.sessions() as session:
        out = (
            await session.scalars(
                select(Message).where(
                    Message.participant_id == participant_id, Message.direction == "out"
                )
            )
        ).all()
    assert [m.telegram_message_id is not None for m in out] == [True] * len(sam.replies())


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "x" * 4096,
        "\u202eevil\u202c",
        "<b>bold</b> *md* _x_ [a](http://e.x)",
        "'; DROP TABLE messages; --",
        "مرحبا 123 H-0042",
        "🙂" * 500,
        "a\x00b",
    ],
)
async def test_hostile_text_is_stored_verbatim(harness: Harness, text: str) -> None:
    sam = harness.user()
    participant_id = await harness.register(sam)
    sam.send(text)
    await harness.pump()
    rows = await _inbound(harness, participant_id)
    assert rows[-1].text == text


async def test_group_chats_and_channel_posts_are_ignored(harness: Harness) -> None:
    harness.api.push_update(
        {
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": -100777, "type": "group", "title": "g"},
                "from": {"id": 42, "is_bot": False, "first_name": "G"},
                "text": "hi",
            }
        }
    )
    harness.api.push_update(
        {
            "channel_post": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": -100778, "type": "channel", "title": "c"},
                "text": "news",
            }
        }
    )
    await harness.pump()
    assert harness.api.sent_messages() == []


async def test_contacts_places_polls_dice_and_forwards_are_kept_and_shown(
    harness: Harness,
) -> None:
    h = harness
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    sam = h.user()
    participant_id = await h.register(sam, officer_telegram_id=officer.chat_id)
    contact = {"phone_number": "+31600000000", "first_name": "Oom", "last_name": "Voorbeeld"}
    venue = {
        "location": {"latitude": 52.1, "longitude": 4.3},
        "title": "Buurthuis",
        "address": "Voorbeeldstraat 1",
    }
    poll = {
        "id": "p1",
        "question": "Welke dag?",
        "options": [
            {"text": "maandag", "voter_count": 0, "persistent_id": "a"},
            {"text": "dinsdag", "voter_count": 0, "persistent_id": "b"},
        ],
        "allows_revoting": False,
        "members_only": False,
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }
    origin = {"type": "hidden_user", "sender_user_name": "Een Vriend", "date": 1}
    sam._send_content({"contact": contact})
    sam._send_content({"venue": venue, "location": venue["location"]})
    sam._send_content({"poll": poll})
    sam._send_content({"dice": {"emoji": "🎲", "value": 4}})
    sam._send_content({"text": "kijk wat hij stuurde", "forward_origin": origin})
    await h.pump()
    rows = (await _inbound(h, participant_id))[-5:]
    assert rows[0].detail["contact"]["phone_number"] == "+31600000000"
    assert rows[1].detail["venue"]["title"] == "Buurthuis" and rows[1].kind == "location"
    assert rows[2].detail["poll"]["options"] == ["maandag", "dinsdag"]
    assert rows[3].detail["dice"] == {"emoji": "🎲", "value": 4}
    assert rows[4].detail == {"forwarded_from": "Een Vriend"}
    assert rows[4].text == "kijk wat hij stuurde"
    shown = "\n".join(officer.replies())
    assert "📇 Contact: Oom Voorbeeld, +31600000000" in shown
    assert "📍 Place: Buurthuis, Voorbeeldstraat 1" in shown
    assert "📊 Poll: Welke dag? (maandag / dinsdag)" in shown
    assert "🎲 4" in shown
