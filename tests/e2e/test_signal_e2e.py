"""End to end on Signal: the real `oprit run` against a fake signal-cli daemon (for the
participant) and the fake Bot API (for the officer, who stays on Telegram)."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.localtelegram import LocalTelegram
from tests.e2e.botprocess import bot_env, oprit_json, running_bot
from tests.e2e.conversation import TelegramGroup, TelegramUser
from tests.signal_daemon import FakeSignalDaemon, SignalUser

BOT_NUMBER = "+31600000099"
OFFICER_ID = 6_400_001
ENGLISH = "3"  # the language choices: Dutch, Arabic, English, Polish, Turkish


@pytest.fixture
def daemon() -> Iterator[FakeSignalDaemon]:
    """The fake daemon; any request that breaks the documented interface fails the test."""
    with FakeSignalDaemon(BOT_NUMBER) as fake:
        yield fake
        fake.assert_no_violations()


def _count(database: Path, query: str) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        return int(connection.execute(query).fetchone()[0])


def signal_env(
    api: LocalTelegram, daemon: FakeSignalDaemon, tmp_path: Path, **extra: str
) -> dict[str, str]:
    """The bot's environment with an officer on Telegram."""
    env = bot_env(
        api.base_url,
        tmp_path,
        OPRIT_SIGNAL_URL=daemon.url,
        OPRIT_SIGNAL_ACCOUNT=BOT_NUMBER,
        OPRIT_SIGNAL_RATE="10",
        **extra,
    )
    oprit_json(
        env,
        tmp_path,
        "staff",
        *("add", "--telegram-id", str(OFFICER_ID), "--role", "officer", "--name", "Officer Test"),
    )
    return env


def sign_up(daemon: FakeSignalDaemon, code: str, number: str, language: str) -> SignalUser:
    """A participant sends the invite code, picks a language (typed: a number or its name)
    and agrees by number."""
    sam = SignalUser(daemon, number)
    sam.send(code)
    question = sam.wait_reply(containing="Which language", timeout=60)
    assert "1. " in question and "Reply with a number" in question
    sam.send(language)
    sam.wait_reply(containing="agree")
    sam.send("1")  # 👍 Agree
    done = sam.wait_reply(containing="all set")
    assert "Check-in" in done  # the keyboard as words to type
    return sam


def test_register_checkin_crisis_and_officer_reply(
    api: LocalTelegram, daemon: FakeSignalDaemon, tmp_path: Path
) -> None:
    env = signal_env(api, daemon, tmp_path)
    invite = oprit_json(
        env,
        tmp_path,
        *("invite", "create", "--officer", str(OFFICER_ID), "--channel", "signal"),
        *("--language", "en", "--name", "Sam Signaal"),
    )
    assert invite["link"] == f"https://signal.me/#p/{BOT_NUMBER}"
    assert invite["channel"] == "signal"
    with running_bot(env, tmp_path):
        officer = TelegramUser(api, OFFICER_ID, first_name="Officer", language_code="nl")
        officer.send("/start")
        officer.wait_reply(timeout=60)  # the bot may take a while to start on a busy machine
        stranger = SignalUser(daemon, "+31611111111", name="Onbekend")
        stranger.send("hallo")
        assert "uitnodigingslink" in stranger.wait_reply()  # the default language
        sam = sign_up(daemon, invite["code"], "+31612345678", language="English")
        # every stored message got its read receipt
        assert any(r["recipient"] == "+31612345678" for r in daemon.receipts)

        sam.send("check-in")  # a keyboard word, typed
        mood = sam.wait_reply(containing="How are you doing")
        assert "2. " in mood
        sam.send("٢")  # 2 in Arabic-Indic digits: Okay
        for _topic in ("housing", "work or school", "money", "health", "paperwork"):
            question = sam.wait_reply()
            sam.send("Fine" if "Fine" in question else "1")
        sam.wait_reply(containing="Anything else")
        sam.send("Het gaat redelijk")
        sam.wait_reply(containing="Thank you")

        sam.send("I need help")  # the keyboard word, without its emoji
        sam.wait_reply(containing="What do you need help with")
        sam.send("paperwork")  # a choice, typed as a word
        sam.wait_reply(containing="Tell me")
        sam.send("Mijn DigiD werkt niet")
        sam.wait_reply(containing="Add more")
        sam.send("1")  # 📨 Send
        assert "H-0001" in sam.wait_reply(containing="H-")
        officer.wait_reply(containing="H-0001")

        before = len(sam.replies())
        sam.send("I want to end it all tonight")
        safety = sam.wait_reply(containing="113")
        assert "0800-0113" in safety and "112" in safety
        assert sam.replies()[before] == safety  # the safety answer came first
        officer.wait_reply(containing="🔴 KRITIEK")
        officer.press("✍️")
        officer.wait_reply()
        officer.send("Ik bel je over vijf minuten.")
        relayed = sam.wait_reply(containing="Ik bel je over vijf minuten.")
        assert "your officer" in relayed
        officer.wait_reply(containing="✓")

    participants = oprit_json(env, tmp_path, "participants", "list")
    exported = oprit_json(env, tmp_path, "export", "--participant", str(participants[0]["id"]))
    texts = [m["text"] for m in exported["messages"] if m["direction"] == "in"]
    assert "I want to end it all tonight" in texts and "Het gaat redelijk" in texts
    assert any(m["direction"] == "out" and "113" in m["text"] for m in exported["messages"])
    assert exported["signal"][0]["number"] == "+31612345678"  # the number, decrypted
    (checkin,) = exported["checkins"]
    assert checkin["mood"] == "okay" and checkin["status"] == "completed"
    database = sqlite3.connect(tmp_path / "data" / "oprit.db")
    stored = database.execute("SELECT number FROM signal_contacts").fetchall()
    assert stored and all(not row[0].startswith("+31") for row in stored)  # encrypted
    delivered = database.execute(
        "SELECT count(*) FROM outbox WHERE channel = 'signal' AND status = 'sent'"
    ).fetchone()
    assert delivered[0] >= 10


def test_unknown_code_and_hostile_input(
    api: LocalTelegram, daemon: FakeSignalDaemon, tmp_path: Path
) -> None:
    env = signal_env(api, daemon, tmp_path)
    invite = oprit_json(
        env, tmp_path, "invite", "create", "--channel", "signal", "--language", "en"
    )
    with running_bot(env, tmp_path):
        eve = SignalUser(daemon, "+31622222222")
        eve.send("AAAAAAAAAAAAAA")
        assert "werkt niet" in eve.wait_reply(timeout=60)
        sam = sign_up(daemon, invite["code"], "+31633333333", language=ENGLISH)
        for hostile in ("x" * 50_000, "\x00\x00", "\u202eevil\u202c", "   ", "/" * 300):
            sam.send(hostile)
        daemon.push(sam.envelope({"message": None, "attachments": []}))  # empty
        daemon.push({"sourceNumber": "not a number", "timestamp": "x"})  # garbage
        daemon.push(SignalUser(daemon, BOT_NUMBER).envelope({"message": "own number"}))
        welcome = daemon.sent_to(sam.number)[-1].timestamp
        for receipt in ({"isDelivery": True}, {"isRead": True}):
            daemon.push(sam.envelope(receiptMessage={**receipt, "timestamps": [welcome, 1]}))
        sam.send("/stop")
        sam.wait_reply(containing="pause")
        sam.send("1")  # Yes, pause
        sam.wait_reply()
        sam.send("nog steeds hier")
        sam.send("I want to end it all tonight")
        assert "113" in sam.wait_reply(containing="113")  # still answering, in order
    database = sqlite3.connect(tmp_path / "data" / "oprit.db")
    failed = database.execute("SELECT count(*) FROM inbox WHERE error IS NOT NULL").fetchone()
    assert failed[0] == 0
    (participant,) = oprit_json(env, tmp_path, "participants", "list")
    assert participant["status"] == "paused"  # /stop, confirmed by number
    assert daemon.sent_to(BOT_NUMBER) == []  # never an answer to the bot's own number
    receipts = database.execute(
        "SELECT delivered_at IS NOT NULL, read_at IS NOT NULL FROM outbox"
        " WHERE channel = 'signal' AND telegram_message_id = ?",
        (welcome,),
    ).fetchall()
    assert receipts == [(1, 1)]  # the phone got it, and it was read
    exported = oprit_json(env, tmp_path, "export", "--participant", str(participant["id"]))
    received = [m for m in exported["messages"] if m["direction"] == "in"]
    texts = [m["text"] for m in received]
    assert len(received) == 10, texts  # five hostile ones, the empty one, /stop, 1 and two more
    assert texts[0] == "x" * 16_000  # cut at a sane length
    assert "\x00\x00" in texts and "\u202eevil\u202c" in texts and "nog steeds hier" in texts
    assert received[5]["kind"] == "other" and received[5]["text"] is None


def officer_relays(officer: TelegramUser, text: str) -> None:
    """The officer answers the newest copy of a participant's message."""
    officer.press("✍️")
    officer.wait_reply()
    officer.send(text)


def test_daemon_faults(api: LocalTelegram, daemon: FakeSignalDaemon, tmp_path: Path) -> None:
    env = signal_env(api, daemon, tmp_path)
    codes = [
        oprit_json(
            env,
            tmp_path,
            *("invite", "create", "--officer", str(OFFICER_ID), "--channel", "signal"),
            *("--language", "en"),
        )["code"]
        for _ in range(2)
    ]
    with running_bot(env, tmp_path):
        officer = TelegramUser(api, OFFICER_ID, first_name="Officer", language_code="nl")
        officer.send("/start")
        officer.wait_reply(timeout=60)  # the bot may take a while to start on a busy machine
        sam = sign_up(daemon, codes[0], "+31644444444", language=ENGLISH)

        sam.send("Goedemorgen")
        officer.wait_reply(containing="Goedemorgen")

        # The daemon is away: messages wait on both sides and arrive once it is back.
        daemon.down()
        officer_relays(officer, "Ben je er morgen?")
        sam.send("check-in")  # written while the daemon is away: Signal's servers keep it
        daemon.wait_until(lambda: not daemon.subscribed(), 10, "the event stream to drop")
        time.sleep(2)  # the bot tries, fails and backs off meanwhile
        daemon.up()
        # Both arrive, in either order: the relay waited in the outbox, the check-in on
        # Signal's servers.
        daemon.wait_until(
            lambda: all(
                any(needle in reply for reply in sam.replies())
                for needle in ("Ben je er morgen?", "How are you doing")
            ),
            40,
            "the relay and the check-in question after the outage",
        )
        sam.wait_reply(containing="How are you doing")

        # Rate limited: the bot waits as long as Signal says before it sends again.
        before = len(daemon.request_times)
        daemon.rate_limit(1, retry_after=2)
        sam.send("1")
        sam.wait_reply(containing="housing")
        # The first send after this point was refused; every later one (the answer, and
        # an older reply still backing off from the outage) waited the 2 s.
        sends = [at for at, method in daemon.request_times[before:] if method == "send"]
        assert len(sends) >= 2
        assert all(at - sends[0] >= 1.9 for at in sends[1:])

        # A new phone: the identity is not trusted any more, which counts as a block.
        daemon.untrusted.add(sam.number)
        officer_relays(officer, "Hallo?")
        assert "Hallo" not in sam.replies()[-1]
        officer.wait_reply(containing="Niet afgeleverd")
        officer.wait_reply(containing="bereikbaar")

        # A number that left Signal: reported like a Telegram block.
        bob = sign_up(daemon, codes[1], "+31655555555", language=ENGLISH)
        daemon.unregistered.add(bob.number)
        bob.send("Tot morgen")  # the bot's answer cannot be delivered
        officer.wait_reply(containing="Tot morgen")
        officer.wait_reply(containing="bereikbaar")  # the alert: cannot be reached
    database = sqlite3.connect(tmp_path / "data" / "oprit.db")
    statuses = database.execute("SELECT status FROM participants").fetchall()
    assert statuses == [("unreachable",), ("unreachable",)]
    blocked = database.execute(
        "SELECT error FROM outbox WHERE status = 'blocked' ORDER BY id"
    ).fetchall()
    assert any("untrusted" in row[0] for row in blocked)
    assert any("unregistered" in row[0] for row in blocked)


def test_reminder_and_broadcast_to_a_mixed_cohort(
    api: LocalTelegram, daemon: FakeSignalDaemon, tmp_path: Path
) -> None:
    env = signal_env(api, daemon, tmp_path)
    env["OPRIT_REMINDER_OFFSETS"] = "1m"
    on_signal = oprit_json(
        env, tmp_path, "invite", "create", "--channel", "signal", "--language", "en"
    )
    on_telegram = oprit_json(env, tmp_path, "invite", "create", "--language", "en")
    with running_bot(env, tmp_path):
        sam = sign_up(daemon, on_signal["code"], "+31666666666", language=ENGLISH)
        tom = TelegramUser(api, 7_400_001, first_name="Tom", language_code="en")
        tom.send(f"/start {on_telegram['code']}")
        tom.wait_reply(containing="language")
        tom.press("English")
        tom.wait_reply(containing="agree")
        tom.press("Agree")
        tom.wait_reply(containing="all set")

        soon = datetime.now(UTC) + timedelta(minutes=1, seconds=5)
        oprit_json(
            env,
            tmp_path,
            *("appointment", "add", "--participant", "1", "--at", soon.isoformat()),
            *("--with", "UWV", "--location", "Stationsplein 1"),
        )
        reminder = sam.wait_reply(containing="UWV", timeout=30)
        assert "Stationsplein 1" in reminder and "1. " in reminder
        sam.send("1")  # I'll be there
        sam.wait_reply()

        queued = oprit_json(
            env,
            tmp_path,
            *("broadcast", "send", "--text", "Morgen dicht.", "--text-en", "Closed tomorrow."),
        )
        assert queued["recipients"] == 2
        sam.wait_reply(containing="Closed tomorrow.")
        tom.wait_reply(containing="Closed tomorrow.")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = oprit_json(env, tmp_path, "broadcast", "status", str(queued["id"]))
            if status["pending"] == 0:
                break
            time.sleep(0.5)
    assert (status["sent"], status["failed"], status["blocked"]) == (2, 0, 0)
    exported = oprit_json(env, tmp_path, "export", "--participant", "1")
    (appointment,) = exported["appointments"]
    assert appointment["confirmation"] == "confirmed"


def test_kill_9_mid_burst(api: LocalTelegram, daemon: FakeSignalDaemon, tmp_path: Path) -> None:
    """Nothing is handled twice; every message with a read receipt is stored; every
    message the killed process had not taken from the daemon arrives after the restart.
    What it had taken but not stored is the window signal-cli leaves open (docs/deploy.md):
    it is measured, and none of it got a read receipt."""
    env = signal_env(api, daemon, tmp_path)
    codes = [
        oprit_json(env, tmp_path, "invite", "create", "--channel", "signal", "--language", "en")[
            "code"
        ]
        for _ in range(3)
    ]
    with running_bot(env, tmp_path):
        people = [
            sign_up(daemon, code, f"+3167000000{n}", language=ENGLISH)
            for n, code in enumerate(codes)
        ]
    burst: list[tuple[str, int]] = []
    for number in range(20):
        for person in people:
            burst.append((person.number, person.send(f"bericht {number} van {person.name}")))
    database = tmp_path / "data" / "oprit.db"
    inbound = "SELECT count(*) FROM messages WHERE direction = 'in'"
    with running_bot(env, tmp_path, log=tmp_path / "bot2.log") as process:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _count(database, inbound) < 10:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_stream = max(daemon.handed_out)
    taken_by_the_dead = set(daemon.handed_out[killed_stream])
    stored_at_kill = _count(database, inbound)
    assert 0 < stored_at_kill < len(burst), "the kill must land in the middle of the burst"

    with running_bot(env, tmp_path, log=tmp_path / "bot3.log"):
        daemon.push(people[0].envelope({"message": "bericht 0 van Sam"}))  # a new one
        for number, stamp in burst[:5]:  # and signal-cli delivering five old ones again
            again = people[[p.number for p in people].index(number)].envelope(
                {"message": "again"}, timestamp=stamp
            )
            daemon.push(again)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (
                daemon.pending() == 0
                and _count(database, "SELECT count(*) FROM inbox WHERE processed_at IS NULL") == 0
                and _count(database, inbound) >= len(burst) + 1 - len(taken_by_the_dead)
            ):
                break
            time.sleep(0.2)
        time.sleep(2)  # anything handled twice would show now

    stored = _count(database, inbound)
    distinct = _count(
        database, "SELECT count(DISTINCT dedupe_key) FROM messages WHERE direction = 'in'"
    )
    assert stored == distinct, "a message was handled twice"
    receipted = {(r["recipient"], r["targetTimestamp"][0]) for r in daemon.receipts}
    lost = [m for m in burst if m not in receipted]
    assert set(lost) <= taken_by_the_dead, "lost a message the dead process never took"
    assert lost == []  # the burst was stored in one transaction, long before the kill
    assert stored == len(burst) + 1
    print(f"kill -9: {stored_at_kill} stored at the kill, {len(lost)} lost in the window")


def test_forum_mode_and_files(api: LocalTelegram, daemon: FakeSignalDaemon, tmp_path: Path) -> None:
    """With an officer group, a Signal participant gets their topic like anyone else: their
    text in it, a note for a file (it cannot cross messengers), and what the officer writes
    in the topic goes back over Signal."""
    forum = -1001234567890
    env = signal_env(api, daemon, tmp_path)
    env["OPRIT_OFFICER_CHAT_ID"] = str(forum)
    invite = oprit_json(
        env, tmp_path, "invite", "create", "--channel", "signal", "--language", "en"
    )
    group = TelegramGroup(api, forum)
    with running_bot(env, tmp_path):
        officer = TelegramUser(api, OFFICER_ID, first_name="Officer", language_code="nl")
        sam = sign_up(daemon, invite["code"], "+31677777777", language=ENGLISH)
        sam.send("Ik heb een brief gekregen")
        photo = {"contentType": "image/jpeg", "id": "att1", "size": 1000, "caption": None}
        daemon.push(sam.envelope({"message": "deze", "attachments": [photo]}))
        thread = api.wait_until(lambda: next(iter(group.topics()), None), 20, "a topic")
        group.wait_message(containing="Ik heb een brief gekregen", thread_id=thread)
        note = group.wait_message(containing="Signal", thread_id=thread)
        assert "deze" in note["text"]
        group.staff_writes_in_topic(officer, thread, "Stuur hem maandag mee.")
        assert "your officer" in sam.wait_reply(containing="Stuur hem maandag mee.")


def test_on_postgresql(
    api: LocalTelegram, daemon: FakeSignalDaemon, pg_database: str, tmp_path: Path
) -> None:
    """The same channel on the production database: a burst stored in one statement, a
    redelivery in the same burst stored once, the crisis answered."""
    env = signal_env(api, daemon, tmp_path, OPRIT_DATABASE_URL=pg_database)
    invite = oprit_json(
        env, tmp_path, "invite", "create", "--channel", "signal", "--language", "en"
    )
    with running_bot(env, tmp_path):
        sam = sign_up(daemon, invite["code"], "+31688888888", language=ENGLISH)
        for text in ("een", "twee"):
            sam.send(text)
        twice = sam.envelope({"message": "dubbel"})
        daemon.push(twice)
        daemon.push(twice)
        sam.send("I want to end it all tonight")
        sam.wait_reply(containing="113")
    (participant,) = oprit_json(env, tmp_path, "participants", "list")
    exported = oprit_json(env, tmp_path, "export", "--participant", str(participant["id"]))
    texts = [m["text"] for m in exported["messages"] if m["direction"] == "in"]
    assert texts == ["een", "twee", "dubbel", "I want to end it all tonight"]
