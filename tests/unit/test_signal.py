"""The Signal channel's pieces on their own: the daemon client against the fake daemon
(both account modes), the event stream reader, the envelope parser with hostile input,
and how choices and the daemon's answers are rendered and read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bot.channels.signal import parse
from bot.channels.signal.handle import INVITE_CODE, normalise
from bot.channels.signal.rpc import (
    DaemonUnreachable,
    RpcError,
    SignalDaemon,
    _receive_params,
    _sse_data,
)
from bot.channels.signal.send import outcome_of, render
from bot.delivery.results import Blocked, Delivered, RetryLater
from bot.i18n import use_language
from tests.signal_daemon import FakeSignalDaemon, SignalUser

BOT = "+31600000077"
NUMBER = "+31612340000"


@pytest.fixture(params=[False, True], ids=["single-account", "multi-account"])
def daemon(request: pytest.FixtureRequest) -> Iterator[FakeSignalDaemon]:
    with FakeSignalDaemon(BOT, multi_account=request.param, keep_alive=0.2) as fake:
        yield fake
        fake.assert_no_violations()


async def test_client_speaks_both_account_modes(daemon: FakeSignalDaemon) -> None:
    client = SignalDaemon(daemon.url, BOT)
    try:
        await client.detect()
        assert client.multi_account is daemon.multi_account
        answer = await client.call("send", {"recipient": [NUMBER], "message": "hoi"})
        assert answer["results"][0]["type"] == "SUCCESS"
        assert isinstance(answer["timestamp"], int)
        SignalUser(daemon, NUMBER).send("hallo")
        events = client.events()
        event = await anext(events)
        await events.aclose()
        assert event["envelope"]["dataMessage"]["message"] == "hallo"
        assert event["account"] == BOT
    finally:
        await client.close()
    sends = [r for r in daemon.requests if r["method"] == "send"]
    assert ("account" in sends[0]["params"]) is daemon.multi_account


async def test_client_reports_the_daemons_errors(daemon: FakeSignalDaemon) -> None:
    client = SignalDaemon(daemon.url, BOT)
    daemon.unregistered.add(NUMBER)
    try:
        await client.detect()
        with pytest.raises(RpcError) as refused:
            await client.call("send", {"recipient": [NUMBER], "message": "hoi"})
        assert refused.value.code == -1
        assert refused.value.results[0]["type"] == "UNREGISTERED_FAILURE"
        daemon.down()
        with pytest.raises(DaemonUnreachable):
            await client.call("send", {"recipient": [NUMBER], "message": "hoi"})
        with pytest.raises(DaemonUnreachable):
            await anext(client.events())
    finally:
        await client.close()


async def test_the_fake_catches_requests_the_daemon_would_refuse() -> None:
    with FakeSignalDaemon(BOT) as daemon:
        async with httpx.AsyncClient() as http:
            body = {"jsonrpc": "2.0", "id": 1, "method": "send", "params": {"recipent": NUMBER}}
            await http.post(f"{daemon.url}/api/v1/rpc", json=body)
            await http.post(f"{daemon.url}/api/v1/rpc", content=b"{}")  # no JSON type
        assert len(daemon.violations) == 2
        assert "unknown parameter 'recipent'" in daemon.violations[0]


async def _lines(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def test_event_stream_reading() -> None:
    data = [
        d
        async for d in _sse_data(
            _lines(
                ":",
                "event:receive",
                'data:{"envelope": {"timestamp": 1}}',
                "",
                "event: other",
                "data: {}",
                "",
                "data:part",
                "data:two",
                "",
            )
        )
    ]
    assert data == ['{"envelope": {"timestamp": 1}}', "part\ntwo"]
    plain = '{"account": "+31", "envelope": {"timestamp": 5}}'
    wrapped = '{"jsonrpc": "2.0", "method": "receive", "params": ' + plain + "}"
    subscribed = (
        '{"jsonrpc": "2.0", "method": "receive", "params": {"subscription": 0, "result": '
        + plain
        + "}}"
    )
    for text in (plain, wrapped, subscribed):
        assert _receive_params(text) == {"account": "+31", "envelope": {"timestamp": 5}}
    for garbage in ("", "null", "[1]", '{"envelope": 3}', "{" * 10_000, "\x00"):
        assert _receive_params(garbage) is None


def test_envelopes_from_hostile_senders() -> None:
    good = {"sourceNumber": NUMBER, "sourceUuid": "A" * 8 + "-aaaa-aaaa-aaaa-" + "a" * 12}
    assert parse.sender(good) == (NUMBER, ("a" * 8 + "-aaaa-aaaa-aaaa-" + "a" * 12))
    for number in ("0612345678", "+31 6 1234", "+" + "1" * 40, "", None, 31612345678, "‮+316"):
        assert parse.sender({"sourceNumber": number, "sourceUuid": "x"}) == (None, None)
    for stamp in (0, -5, 2**70, "123", True, None, 1.5e12):
        assert parse.timestamp({"timestamp": stamp}) is None
    group = {"dataMessage": {"message": "hoi", "groupInfo": {"groupId": "x"}}}
    assert not parse.is_from_person(group)
    assert not parse.is_from_person({"typingMessage": {"action": "STARTED"}})
    assert not parse.is_from_person({"syncMessage": {"sentMessage": {"message": "x"}}})
    assert parse.receipt({"receiptMessage": {"isRead": True, "timestamps": [1, "x", None]}}) == (
        "read",
        [1],
    )


def test_update_ids_keep_one_chats_order_and_never_meet_telegrams() -> None:
    stamps = [1_765_000_000_000 + n for n in range(50)]
    ids = [parse.update_id(7, stamp) for stamp in stamps]
    assert ids == sorted(ids) and len(set(ids)) == 50
    assert parse.update_id(7, stamps[0]) != parse.update_id(8, stamps[0])
    assert min(ids) > 2**62 and max(ids) < 2**63
    assert parse.update_id(2**20 - 1, parse.LATEST_MS - 1) < 2**63
    assert parse.contact_of(parse.chat_of(42)) == 42 and parse.chat_of(1) > 2**52
    assert parse.contact_of(123_456_789) is None  # a Telegram chat


def test_events_of_every_kind() -> None:
    chat = parse.chat_of(3)
    stamp = 1_765_000_000_000
    text = parse.to_event(chat, {"timestamp": stamp, "dataMessage": {"message": "x" * 99_999}})
    assert text is not None and text.kind == "text" and len(text.text or "") == parse.MAX_TEXT
    assert text.dedupe_key == f"m:{chat}:{stamp}"
    photo = parse.to_event(
        chat,
        {
            "timestamp": stamp,
            "dataMessage": {"attachments": [{"contentType": "image/jpeg", "id": "abc"}]},
        },
    )
    assert photo is not None and (photo.kind, photo.media, photo.text) == ("photo", "abc", None)
    voice = parse.to_event(
        chat, {"timestamp": stamp, "dataMessage": {"attachments": [{"contentType": "audio/aac"}]}}
    )
    assert voice is not None and voice.kind == "voice"
    edit = parse.to_event(
        chat,
        {
            "timestamp": stamp + 9,
            "editMessage": {"targetSentTimestamp": stamp, "dataMessage": {"message": "beter"}},
        },
        update=77,
    )
    assert edit is not None and (edit.kind, edit.message_id, edit.text) == ("edit", stamp, "beter")
    reaction = parse.to_event(
        chat, {"timestamp": stamp, "dataMessage": {"reaction": {"emoji": "👍" * 50}}}
    )
    assert reaction is not None and reaction.kind == "other" and reaction.detail is not None
    assert parse.to_event(chat, {"timestamp": stamp}) is None
    assert parse.to_event(chat, {"dataMessage": {"message": "no timestamp"}}) is None
    command = parse.to_event(chat, {"timestamp": stamp, "dataMessage": {"message": "/stop"}})
    assert command is not None and command.command == ("stop", "")


def test_choices_become_numbered_lines_in_the_readers_language() -> None:
    payload = {
        "text": "Hoe gaat het?",
        "choices": [[["c:t:good", "😀 Goed"], ["c:t:ok", "😐 Gaat wel"]], [["c:t:bad", "Slecht"]]],
        "keyboard": [["✅ Check-in", "🙋 Ik wil hulp"]],
    }
    with use_language("nl"):
        shown = render(payload)
    assert shown.splitlines()[:5] == [
        "Hoe gaat het?",
        "",
        "1. 😀 Goed",
        "2. 😐 Gaat wel",
        "3. Slecht",
    ]
    assert "1 tot en met 3" in shown and "✅ Check-in · 🙋 Ik wil hulp" in shown
    with use_language("en"):
        assert "Reply 1, or type the word." in render({"text": "?", "choices": [[["a:b:c", "OK"]]]})
        assert render({"text": "  "}) == "…"


def test_the_daemons_answers_as_outcomes() -> None:
    assert outcome_of([{"type": "SUCCESS"}], 123) == Delivered(123)
    assert isinstance(outcome_of([{"type": "UNREGISTERED_FAILURE"}], None), Blocked)
    assert isinstance(outcome_of([{"type": "IDENTITY_FAILURE"}], None), Blocked)
    limited = outcome_of([{"type": "RATE_LIMIT_FAILURE", "retryAfterSeconds": 7}], None)
    assert isinstance(limited, RetryLater) and limited.flood_control and limited.seconds == 7
    network = outcome_of([{"type": "NETWORK_FAILURE"}], None)
    assert isinstance(network, RetryLater) and not network.flood_control


def test_typed_words_and_codes() -> None:
    assert normalise("👍 Agree!") == normalise("agree") == "agree"
    assert normalise("✅ Check-in") == normalise("check in") == normalise("CHECK-IN")
    assert normalise("🌐 اللغة") == "اللغة"
    assert normalise("‮ ") == ""
    assert INVITE_CODE.fullmatch("Ab3_d-Ef9hIjKl")
    assert INVITE_CODE.fullmatch("start Ab3_d-Ef9hIjKl").group(1) == "Ab3_d-Ef9hIjKl"  # type: ignore[union-attr]
    for not_a_code in ("hallo", "ik heb hulp nodig", "Ab3_d Ef9hIjKl", "x" * 65, ""):
        assert not INVITE_CODE.fullmatch(not_a_code)


async def test_a_send_before_anything_else_learns_the_mode_first() -> None:
    with FakeSignalDaemon(BOT, multi_account=True) as daemon:
        client = SignalDaemon(daemon.url, BOT)
        try:
            await client.call("send", {"recipient": [NUMBER], "message": "eerst"})
        finally:
            await client.close()
        daemon.assert_no_violations()
        assert [r["method"] for r in daemon.requests] == ["listAccounts", "send"]
