"""Tests of the local Telegram itself, driven by a real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.localtelegram import Call, LocalTelegram, UploadedFile, max_calls_in_window
from bot.localtelegram.markup import parse_html, parse_markdown_v2
from tests.e2e.conversation import TelegramGroup, TelegramUser

ALICE = 5001
GROUP = -1001234567890


@pytest.fixture
def api() -> Iterator[LocalTelegram]:
    with LocalTelegram() as fake:
        fake.open_chat(ALICE, "Alice")
        fake.open_chat(ALICE + 1, "Bob")
        yield fake


@pytest.fixture
async def bot(api: LocalTelegram) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url) as client:
        yield client


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in buttons]])


def raw_call(
    api: LocalTelegram, method: str, body: dict[str, object], token: str | None = None
) -> tuple[int, Any]:
    """A JSON-body request without PTB, the way a sync test or another client would do it."""
    request = urllib.request.Request(
        f"{api.base_url}{token or api.token}/{method}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- basics ----------------------------------------------------------------------------------


async def test_get_me(api: LocalTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.first_name, me.username) == (
        900000001,
        True,
        "Oprit",
        "oprit_test_bot",
    )
    assert api.base_url.startswith("http://127.0.0.1:") and api.base_url.endswith("/bot")


async def test_send_message_is_recorded_and_parsed(api: LocalTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        ALICE, "Hallo <b>Sam</b> 👋", parse_mode="HTML", reply_markup=keyboard(("Goed", "m:g"))
    )
    assert sent.text == "Hallo Sam 👋"
    assert sent.entities[0].type == "bold" and sent.entities[0].offset == 6
    assert sent.chat.type == "private" and sent.from_user and sent.from_user.is_bot
    assert sent.reply_markup == keyboard(("Goed", "m:g"))

    [call] = api.sent_messages(ALICE)
    assert call.method == "sendMessage" and call.status == 200
    assert call.params["chat_id"] == ALICE  # decoded from the form string "5001"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Goed", "callback_data": "m:g"}]]
    }
    assert call.result["message_id"] == sent.message_id
    second = await bot.send_message(ALICE, "Nog een")
    assert second.message_id == sent.message_id + 1
    assert api.calls("sendmessage", chat_id=ALICE)[-1].params["text"] == "Nog een"
    api.assert_no_violations()


def test_sync_client_json_body_and_case_insensitive_method(api: LocalTelegram) -> None:
    status, body = raw_call(api, "sendmessage", {"chat_id": ALICE, "text": "hoi"})
    assert status == 200 and body["result"]["text"] == "hoi"
    assert api.calls()[-1].method == "sendMessage"

    status, body = raw_call(api, "getMe", {}, token="1:wrong")
    assert (status, body) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


def test_push_update_rejects_unrealistic_updates(api: LocalTelegram) -> None:
    with pytest.raises(ValueError, match=r"needs field"):
        api.push_update({"message": {"text": "no chat, no id"}})


# --- spec and limit checks -------------------------------------------------------------------


# do_api_request("sendMessage") warns that bot.send_message exists; here that is the point.
@pytest.mark.filterwarnings("ignore:Please use")
async def test_unknown_and_missing_parameters_are_violations(api: LocalTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r'(?i)unknown parameter "chat_idd"'):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_idd": ALICE, "text": "x"})
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendMesage", api_kwargs={"chat_id": ALICE, "text": "x"})
    assert len(api.violations) == 2
    assert "chat_idd" in api.violations[0] and "sendMesage" in api.violations[1]
    with pytest.raises(AssertionError, match=r"2 Bot API violation"):
        api.assert_no_violations()
    assert [c.status for c in api.calls()[-2:]] == [400, 404]


async def test_text_and_caption_limits(api: LocalTelegram, bot: Bot) -> None:
    await bot.send_message(ALICE, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ALICE, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_document(ALICE, "FILEID", caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
        await bot.send_message(ALICE, "hi", parse_mode="Textile")
    assert len(api.violations) == 4


@pytest.mark.filterwarnings("ignore:Please use")
async def test_inline_keyboard_checks(api: LocalTelegram, bot: Bot) -> None:
    await bot.send_message(ALICE, "ok", reply_markup=keyboard(("a", "x" * 64)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "too long", reply_markup=keyboard(("a", "é" * 33)))
    no_action = {"inline_keyboard": [[{"text": "a"}]]}
    with pytest.raises(BadRequest, match=r"(?i)exactly one of"):
        await bot.do_api_request(
            "sendMessage", api_kwargs={"chat_id": ALICE, "text": "t", "reply_markup": no_action}
        )
    typo = {"inline_keyboard": [[{"text": "a", "callback_data": "d", "colour": "red"}]]}
    with pytest.raises(BadRequest, match=r'(?i)unknown field "colour" in InlineKeyboardButton'):
        await bot.do_api_request(
            "sendMessage", api_kwargs={"chat_id": ALICE, "text": "t", "reply_markup": typo}
        )
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await bot.answer_callback_query("1", text="x" * 201)
    assert len(api.violations) == 4


async def test_parse_errors(api: LocalTelegram, bot: Bot) -> None:
    for text in ("<b>unclosed", "a < b", "line<br>break", "<i>x</b>"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(ALICE, text, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Character '.' is reserved"):
        await bot.send_message(ALICE, "Tot morgen.", parse_mode="MarkdownV2")
    sent = await bot.send_message(ALICE, r"*Tot* morgen\. a &lt; b", parse_mode="MarkdownV2")
    assert sent.text == "Tot morgen. a &lt; b"
    assert len(api.violations) == 5


def test_parsers_report_telegram_entities() -> None:
    text, entities = parse_html('👋 <b>Hi <i>you</i></b> <a href="https://x.nl">link</a> &amp;')
    assert text == "👋 Hi you link &"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 6},  # offsets count UTF-16 units
        {"type": "italic", "offset": 6, "length": 3},
        {"type": "text_link", "offset": 10, "length": 4, "url": "https://x.nl"},
    ]
    with pytest.raises(ValueError, match=r'Unsupported start tag "br" at byte offset 5'):
        parse_html("line <br>")
    text, entities = parse_markdown_v2(r"__u__ ||s|| [l](https://x.nl/a\)b) `c\`d`")
    assert text == "u s l c`d"
    assert [e["type"] for e in entities] == ["underline", "spoiler", "text_link", "code"]
    assert entities[2]["url"] == "https://x.nl/a)b"
    with pytest.raises(ValueError, match=r"Can't find end of bold entity"):
        parse_markdown_v2("*open")


# --- faults ----------------------------------------------------------------------------------


async def test_injected_faults(
    api: LocalTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api.fail_next("sendMessage", retry_after=3, count=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(ALICE, "hi")
        assert caught.value.retry_after == dtm.timedelta(seconds=3)
    await bot.send_message(ALICE, "now it works")

    api.delay(0.2)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.2
    api.delay(0)

    api.fail_next(status=500, chat_id=ALICE)
    await bot.send_message(ALICE + 1, "another chat is not affected")
    with pytest.raises(NetworkError, match=r"Internal Server Error"):
        await bot.send_message(ALICE, "hi")
    api.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(ALICE, "hi")
    assert api.calls()[-1].response == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: chat not found",
    }
    assert api.violations == []


async def test_blocked_and_never_started_chats(api: LocalTelegram, bot: Bot) -> None:
    api.block_chat(ALICE)
    with pytest.raises(Forbidden, match=r"bot was blocked by the user"):
        await bot.send_message(ALICE, "hi")
    assert "my_chat_member" in api.pending_updates()[-1]
    api.never_started(ALICE + 1)
    with pytest.raises(Forbidden, match=r"can't initiate conversation"):
        await bot.send_message(ALICE + 1, "hi")
    TelegramUser(api, ALICE + 1).send("/start")  # writing to the bot starts it
    await bot.send_message(ALICE + 1, "welkom")
    blocked = (await bot.get_updates())[0].my_chat_member
    assert blocked and blocked.new_chat_member.status == "kicked"


async def test_group_flood_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with LocalTelegram() as strict:
        async with Bot(strict.token, base_url=strict.base_url) as flooder:
            for n in range(20):
                await flooder.send_message(GROUP, f"alert {n}")
            with pytest.raises(RetryAfter):
                await flooder.send_message(GROUP, "one too many")
        assert strict.violations == [
            f"flood limit: more than 20 messages per minute into group {GROUP}"
        ]


async def test_a_chat_that_never_opened_the_bot_is_refused(bot: Bot) -> None:
    with LocalTelegram() as fresh:
        async with Bot(fresh.token, base_url=fresh.base_url) as client:
            with pytest.raises(Forbidden, match=r"can't initiate conversation"):
                await client.send_message(ALICE + 7, "hi")
            fresh.open_chat(ALICE + 7)
            await client.send_message(ALICE + 7, "now it works")
        assert fresh.violations == []


async def test_a_thread_that_does_not_exist_is_refused(api: LocalTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(GROUP, "into nowhere", message_thread_id=999)
    topic = await bot.create_forum_topic(GROUP, "Sam")
    await bot.send_message(GROUP, "into the topic", message_thread_id=topic.message_thread_id)
    staff_topic = api.add_topic(GROUP, "Team")
    await bot.send_message(GROUP, "staff topic", message_thread_id=staff_topic)
    assert api.topics(GROUP) == {topic.message_thread_id: "Sam"}


async def test_a_lost_answer_still_delivers_the_message(api: LocalTelegram, bot: Bot) -> None:
    api.fail_next("sendMessage", lose_answer=True)
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "arrives, but the answer is lost")
    assert [m["text"] for m in api.bot_messages(ALICE)] == ["arrives, but the answer is lost"]
    await bot.send_message(ALICE, "next one is answered")
    assert len(api.bot_messages(ALICE)) == 2


async def test_flood_limits_are_enforced_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    with LocalTelegram() as strict:
        for chat in range(ALICE, ALICE + 31):
            strict.open_chat(chat)
        async with Bot(strict.token, base_url=strict.base_url) as flooder:
            await asyncio.gather(
                *(flooder.send_message(chat, "hi") for chat in range(ALICE, ALICE + 30))
            )
            with pytest.raises(RetryAfter):
                await flooder.send_message(ALICE + 30, "one too many this second")
        assert strict.violations == ["flood limit: more than 30 messages per second"]


def test_max_calls_in_window() -> None:
    def calls(*times: float) -> list[Call]:
        return [Call("sendMessage", {}, t, t, 200, {}) for t in times]

    assert max_calls_in_window([]) == 0
    assert max_calls_in_window(calls(0.0, 0.5, 0.99, 1.0, 1.5, 1.6)) == 4
    assert max_calls_in_window(calls(0.0, 1.0, 2.0)) == 1
    assert max_calls_in_window(calls(3.0, 0.0, 0.1), window_seconds=0.5) == 2


# --- updates ---------------------------------------------------------------------------------


async def test_get_updates_offset_semantics(api: LocalTelegram, bot: Bot) -> None:
    alice = TelegramUser(api, ALICE)
    ids = [alice.send(f"bericht {n}") for n in range(3)]
    assert ids == [1000, 1001, 1002]

    first = await bot.get_updates()
    assert [u.update_id for u in first] == ids
    assert first[0].message and first[0].message.text == "bericht 0"
    assert [u.update_id for u in await bot.get_updates()] == ids  # nothing confirmed yet

    assert [u.update_id for u in await bot.get_updates(offset=1002)] == [1002]
    assert api.confirmed_offset == 1002
    assert [u["update_id"] for u in api.pending_updates()] == [1002]
    assert [u.update_id for u in await bot.get_updates(offset=1)] == [1002]  # 1000-1001 gone
    api.wait_until_confirmed(1001, timeout=0.1)

    alice.send("nog één")
    assert [u.update_id for u in await bot.get_updates(offset=1002, limit=1)] == [1002]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [1003]
    assert [u["update_id"] for u in api.pending_updates()] == [1003]


async def test_get_updates_long_poll_wakes_up_and_times_out(api: LocalTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3

    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    TelegramUser(api, ALICE).send("wakker?")
    updates = await poll
    assert len(updates) == 1 and time.monotonic() - started < 1


async def test_allowed_updates_and_webhook_conflict(api: LocalTelegram, bot: Bot) -> None:
    alice = TelegramUser(api, ALICE)
    alice.send("text")
    api.push_update(
        {"edited_message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
    )
    updates = await bot.get_updates(allowed_updates=["edited_message"])
    assert [u.edited_message is not None for u in updates] == [True]

    assert await bot.set_webhook("https://oprit.example/hook", secret_token="s3cret")
    assert api.webhook and api.webhook["secret_token"] == "s3cret"
    assert (await bot.get_webhook_info()).pending_update_count == 2
    with pytest.raises(Conflict, match=r"webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert api.pending_updates() == [] and api.webhook is None


# --- files, topics, edits --------------------------------------------------------------------


async def test_multipart_document_upload(api: LocalTelegram, bot: Bot) -> None:
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    sent = await bot.send_document(
        ALICE, InputFile(ics, filename="afspraak.ics"), caption="Je afspraak"
    )
    assert sent.document and sent.document.file_name == "afspraak.ics"
    assert sent.caption == "Je afspraak"
    [call] = api.sent_messages(ALICE)
    upload = call.files["document"]
    assert call.params["document"] == upload
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.size, upload.data) == ("afspraak.ics", len(ics), ics)
    file = await bot.get_file(sent.document.file_id)
    assert file.file_size == len(ics)
    api.assert_no_violations()


async def test_forum_topics(api: LocalTelegram, bot: Bot) -> None:
    topic = await bot.create_forum_topic(GROUP, "Sam de Vries")
    assert topic.icon_color == 7322096 and topic.name == "Sam de Vries"
    in_topic = await bot.send_message(GROUP, "Alert", message_thread_id=topic.message_thread_id)
    assert in_topic.is_topic_message and in_topic.chat.type == "supergroup"
    assert api.topics(GROUP) == {topic.message_thread_id: "Sam de Vries"}

    api.delete_topic(GROUP, topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(GROUP, "Alert", message_thread_id=topic.message_thread_id)
    assert (GROUP, topic.message_thread_id) in api.deleted_topics
    assert api.violations == []


async def test_edit_message(api: LocalTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "Hoe gaat het?", reply_markup=keyboard(("Goed", "g")))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Hoe gaat het?", ALICE, sent.message_id, reply_markup=keyboard(("Goed", "g"))
        )
    edited = await bot.edit_message_text("Dank je!", ALICE, sent.message_id)
    assert not isinstance(edited, bool) and edited.text == "Dank je!" and edited.edit_date
    stored = api.message(ALICE, sent.message_id)
    assert stored and stored["text"] == "Dank je!"
    assert "reply_markup" not in stored  # editing text without markup drops the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", ALICE, 999)
    assert api.violations == []


async def test_copy_user_message_into_topic(api: LocalTelegram, bot: Bot) -> None:
    alice = TelegramUser(api, ALICE, "Alice")
    alice.send("Ik heb hulp nodig")
    group = TelegramGroup(api, GROUP)
    topic = await bot.create_forum_topic(GROUP, "Alice")
    copied = await bot.copy_message(
        GROUP, ALICE, alice.last_message_id, message_thread_id=topic.message_thread_id
    )
    assert group.messages(topic.message_thread_id) == ["Ik heb hulp nodig"]
    assert group.wait_message(thread_id=topic.message_thread_id)["message_id"] == (
        copied.message_id
    )
    forwarded = await bot.forward_message(GROUP, ALICE, alice.last_message_id)
    assert forwarded.text == "Ik heb hulp nodig" and forwarded.forward_origin
    assert forwarded.forward_origin.date.timestamp() > 0

    officer = TelegramUser(api, 7001, "Olga")
    group.staff_writes_in_topic(officer, topic.message_thread_id, "Ik bel je zo")
    message = api.pending_updates()[-1]["message"]
    assert message["is_topic_message"] and message["message_thread_id"] == topic.message_thread_id
    assert message["reply_to_message"]["forum_topic_created"]["name"] == "Alice"


# --- conversation helper ---------------------------------------------------------------------


async def test_conversation_against_a_real_application(api: LocalTelegram) -> None:
    async def checkin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat
        await context.bot.send_message(
            update.effective_chat.id,
            "Hoe gaat het?",
            reply_markup=keyboard(("😀 Goed", "mood:good"), ("😐 Oké", "mood:ok")),
        )

    async def mood(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query and query.message
        await query.answer()
        await query.edit_message_reply_markup(None)
        await context.bot.send_message(
            query.message.chat.id,
            f"Dank je! ({query.data})",
            reply_markup=ReplyKeyboardMarkup([[KeyboardButton("Check-in")]]),
        )

    app = Application.builder().token(api.token).base_url(api.base_url).build()
    app.add_handler(CommandHandler("checkin", checkin))
    app.add_handler(CallbackQueryHandler(mood))
    alice = TelegramUser(api, ALICE, "Alice")
    async with app:
        await app.start()
        assert app.updater
        await app.updater.start_polling(poll_interval=0, timeout=1)
        alice.send("/checkin")
        assert await alice.wait_reply_async("hoe gaat") == "Hoe gaat het?"
        assert alice.buttons() == ["😀 Goed", "😐 Oké"]
        with pytest.raises(AssertionError, match=r"Goed"):
            alice.press("Slecht")
        alice.press("goed")
        assert "mood:good" in await alice.wait_reply_async()
        assert alice.keyboard() == ["Check-in"]
        assert alice.last_markup() == {"keyboard": [[{"text": "Check-in"}]]}
        assert alice.replies() == ["Hoe gaat het?", "Dank je! (mood:good)"]
        assert alice.buttons() == []  # the keyboard was removed by the edit
        await app.updater.stop()
        await app.stop()
    api.assert_no_violations()
    assert api.calls("answerCallbackQuery")[0].ok


def test_conversation_updates_look_like_telegram(api: LocalTelegram) -> None:
    sam = TelegramUser(api, ALICE)
    sam.send("/start abc123")
    message = api.pending_updates()[-1]["message"]
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message["from"] == {
        "id": ALICE,
        "is_bot": False,
        "first_name": "Sam",
        "language_code": "nl",
    }
    first_id = sam.last_message_id
    sam.send_voice()
    sam.send_photo("kijk")
    sam.send_document("brief.pdf")
    sam.send_location(52.37, 4.89)
    sam.send_sticker()
    sam.edit(first_id, "/start xyz")
    assert api.pending_updates()[-1]["edited_message"]["text"] == "/start xyz"
    sam.press_data("forged", 999)
    stale = api.pending_updates()[-1]["callback_query"]["message"]
    assert stale["date"] == 0 and stale["message_id"] == 999
    with pytest.raises(AssertionError, match=r"no inline button"):
        sam.press("Goed")
    assert len(api.pending_updates()) == 8

    with pytest.raises(AssertionError, match=r"timed out after 0.1s waiting for 1 sendMessage"):
        api.wait_for_calls("sendMessage", timeout=0.1)
