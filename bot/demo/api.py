"""The demo's JSON control API (documented in the README); the page uses nothing else.

    GET  /api/chats                      the phones
    GET  /api/chats/{id}/messages?after=N
    POST /api/chats/{id}/messages        {"text", "reply_to"?, "thread_id"?} or
                                         {"attachment": "photo"|"voice", ...}
    POST /api/chats/{id}/press           {"message_id", "data"}
    POST /api/chats/{id}/react           {"message_id", "emoji"}
    GET  /api/clock, POST /api/clock     {"advance": "1h"} or {"to": "<local ISO time>"
                                         | "tomorrow 10:00" | "before next appointment"}
    POST /api/participants               {"name", "language"}
    GET  /api/status                     {"ready", "dashboard"} (bot.demo.server)
    GET  /dashboard?as=officer|coordinator  a one-time dashboard login (bot.demo.server)

Everything a person could not do in a Telegram client is refused with 400 (an empty or
over-long text, a button that is not there, a reply to a message that does not exist), an
unknown chat with 404.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from aiohttp import web

from bot.demo import chats
from bot.demo.clock import TimeTravelError
from bot.demo.seed import sample
from bot.demo.world import OFFICER_ID, DemoChat, DemoNotReady, DemoWorld
from bot.engine import scheduler
from bot.i18n import available_languages
from bot.localtelegram import ApiError
from bot.localtelegram.server import MAX_TEXT_LENGTH
from bot.text import display_name
from bot.timeparse import parse_duration, parse_local_time
from db import appointments as appointments_db
from db import people

WORLD = web.AppKey("world", DemoWorld)
MAX_BODY_BYTES = 64 * 1024
MAX_NAME_LENGTH = 64
# A few of the emoji Telegram offers as reactions.
REACTIONS = frozenset({"👍", "❤", "🙏", "👌", "😢", "🎉"})


def _fail(status: type[web.HTTPException], reason: str) -> web.HTTPException:
    return status(
        text=json.dumps({"error": reason}, ensure_ascii=False), content_type="application/json"
    )


def _world(request: web.Request) -> DemoWorld:
    return request.app[WORLD]


def _chat(request: web.Request) -> DemoChat:
    raw = request.match_info["chat_id"]
    try:
        chat_id = int(raw)
    except ValueError:
        raise _fail(web.HTTPNotFound, "no such chat") from None
    chat = _world(request).chats.get(chat_id)
    if chat is None:
        raise _fail(web.HTTPNotFound, "no such chat")
    return chat


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object sent, or 400."""
    try:
        body = await request.json()
    except ValueError:
        raise _fail(web.HTTPBadRequest, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise _fail(web.HTTPBadRequest, "send a JSON object")
    return body


def _int(body: dict[str, Any], key: str, required: bool = False) -> int | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(web.HTTPBadRequest, f'"{key}" must be a whole number')
    return value


async def list_chats(request: web.Request) -> web.Response:
    """GET /api/chats."""
    world = _world(request)
    return web.json_response(
        [
            {**chat.public(), "topics": chats.topics(world, chat)}
            if chat.kind == "group"
            else chat.public()
            for chat in world.chats.values()
        ]
    )


async def list_messages(request: web.Request) -> web.Response:
    """GET /api/chats/{id}/messages?after=N."""
    chat = _chat(request)
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise _fail(web.HTTPBadRequest, '"after" must be a message id') from None
    return web.json_response(chats.messages(_world(request), chat, after))


def _writer(world: DemoWorld, chat: DemoChat) -> DemoChat:
    """Who types in this chat: its holder, or the officer in the officers' group."""
    return chat if chat.user is not None else world.chats[OFFICER_ID]


async def post_message(request: web.Request) -> web.Response:
    """POST /api/chats/{id}/messages: the holder of the phone sends something."""
    world, chat = _world(request), _chat(request)
    body = await _body(request)
    reply_to = _int(body, "reply_to")
    thread_id = _int(body, "thread_id")
    if thread_id is not None and thread_id not in chats.topics(world, chat):
        raise _fail(web.HTTPBadRequest, "no such topic in this chat")
    if reply_to is not None and world.api.message(chat.id, reply_to) is None:
        raise _fail(web.HTTPBadRequest, "the message to reply to does not exist")
    user = _writer(world, chat).user
    assert user is not None
    text = body.get("text")
    attachment = body.get("attachment")
    where: dict[str, Any] = {"reply_to": reply_to, "thread_id": thread_id}
    try:
        if attachment == "photo":
            caption = text if isinstance(text, str) else None
            if caption is not None and len(caption) > 1024:
                raise _fail(web.HTTPBadRequest, "a caption holds at most 1024 characters")
            message = user.send_photo(chat.id, sample("sample-photo.jpg"), caption, **where)
        elif attachment == "voice":
            message = user.send_voice(chat.id, sample("sample-voice.wav"), 2, "audio/wav", **where)
        elif attachment is not None:
            raise _fail(web.HTTPBadRequest, '"attachment" is "photo" or "voice"')
        else:
            if not isinstance(text, str) or not text.strip():
                raise _fail(web.HTTPBadRequest, '"text" must be a text that is not empty')
            if len(text) > MAX_TEXT_LENGTH:
                raise _fail(
                    web.HTTPBadRequest, f"a message holds at most {MAX_TEXT_LENGTH} characters"
                )
            message = user.write(chat.id, text, **where)
    except ApiError as error:
        raise _fail(web.HTTPBadRequest, error.description) from None
    return web.json_response(chats.view(world, chat, message), status=201)


async def press(request: web.Request) -> web.Response:
    """POST /api/chats/{id}/press: press an inline button that is on the message now."""
    world, chat = _world(request), _chat(request)
    body = await _body(request)
    message_id = _int(body, "message_id", required=True)
    data = body.get("data")
    assert message_id is not None
    message = world.api.message(chat.id, message_id)
    buttons = (
        [b for row in chats.view(world, chat, message)["buttons"] for b in row] if message else []
    )
    if not isinstance(data, str) or not any(b["data"] == data for b in buttons):
        raise _fail(web.HTTPBadRequest, "that message has no such button")
    user = _writer(world, chat).user
    assert user is not None
    update_id = user.press(chat.id, message_id, data)
    return web.json_response({"ok": True, "update_id": update_id})


async def react(request: web.Request) -> web.Response:
    """POST /api/chats/{id}/react: an emoji reaction on a message in the chat."""
    world, chat = _world(request), _chat(request)
    body = await _body(request)
    message_id = _int(body, "message_id", required=True)
    assert message_id is not None
    if body.get("emoji") not in REACTIONS:
        raise _fail(web.HTTPBadRequest, f'"emoji" is one of {" ".join(sorted(REACTIONS))}')
    user = _writer(world, chat).user
    assert user is not None
    try:
        update_id = user.react(chat.id, message_id, body["emoji"])
    except ApiError as error:
        raise _fail(web.HTTPBadRequest, error.description) from None
    return web.json_response({"ok": True, "update_id": update_id})


async def _next_appointment(world: DemoWorld) -> datetime | None:
    runtime = world.bot_runtime()
    now = runtime.clock.now()
    soonest: datetime | None = None
    async with runtime.sessions() as session:
        for chat in world.chats.values():
            if chat.kind != "participant":
                continue
            participant = await people.participant_by_telegram_id(session, chat.id)
            if participant is None:
                continue
            ahead = await appointments_db.upcoming(session, participant.id, now)
            if ahead and (soonest is None or ahead[0].at < soonest):
                soonest = ahead[0].at
    return soonest


async def _clock_state(world: DemoWorld) -> dict[str, Any]:
    runtime = world.bot_runtime()
    now = runtime.clock.now()
    upcoming = await _next_appointment(world)
    return {
        "now": now.isoformat(),
        "local": now.astimezone(runtime.settings.tz).strftime("%a %d %b %Y %H:%M"),
        "timezone": runtime.settings.timezone,
        "ahead_seconds": int(world.clock.offset.total_seconds()),
        "next_appointment": upcoming.isoformat() if upcoming else None,
    }


async def get_clock(request: web.Request) -> web.Response:
    """GET /api/clock."""
    return web.json_response(await _clock_state(_world(request)))


async def _target(world: DemoWorld, to: str) -> datetime:
    runtime = world.bot_runtime()
    zone = runtime.settings.tz
    if to == "tomorrow 10:00":
        today = runtime.clock.now().astimezone(zone).date()
        return datetime.combine(today + timedelta(days=1), time(10, 0), zone)
    if to == "before next appointment":
        upcoming = await _next_appointment(world)
        if upcoming is None:
            raise _fail(web.HTTPBadRequest, "no appointment ahead")
        return upcoming - timedelta(hours=1)
    try:
        return parse_local_time(to, zone)
    except ValueError as error:
        raise _fail(web.HTTPBadRequest, str(error)) from None


async def post_clock(request: web.Request) -> web.Response:
    """POST /api/clock: move the demo clock forward, then let the scheduler run at once."""
    world = _world(request)
    body = await _body(request)
    runtime = world.bot_runtime()
    try:
        if isinstance(body.get("advance"), str):
            world.clock.advance(parse_duration(body["advance"]))
        elif isinstance(body.get("to"), str):
            world.clock.travel_to((await _target(world, body["to"])).astimezone(UTC))
        else:
            raise _fail(web.HTTPBadRequest, 'send {"advance": "1h"} or {"to": "..."}')
    except (TimeTravelError, ValueError) as error:
        raise _fail(web.HTTPBadRequest, str(error)) from None
    await scheduler.tick(runtime)
    runtime.wake_outbox()
    return web.json_response(await _clock_state(world))


async def post_participant(request: web.Request) -> web.Response:
    """POST /api/participants: a new phone, signed up through a real invite."""
    world = _world(request)
    body = await _body(request)
    name, language = body.get("name"), body.get("language")
    if not isinstance(name, str) or display_name(name) == "?" or len(name) > MAX_NAME_LENGTH:
        raise _fail(
            web.HTTPBadRequest, f'"name" must be a name of 1 to {MAX_NAME_LENGTH} characters'
        )
    if language not in available_languages():
        raise _fail(web.HTTPBadRequest, f'"language" is one of {", ".join(available_languages())}')
    chat = world.add_person(display_name(name), "participant", language)
    try:
        await world.register(chat, display_name(name), language)
    except DemoNotReady as error:
        raise _fail(web.HTTPServiceUnavailable, str(error)) from None
    return web.json_response(chat.public(), status=201)


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """A demo still starting answers 503; every error answer is JSON."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except DemoNotReady as error:
        raise _fail(web.HTTPServiceUnavailable, str(error)) from None


def add_routes(app: web.Application) -> None:
    """The control API under /api."""
    app.middlewares.append(_errors)
    app.router.add_get("/api/chats", list_chats)
    app.router.add_get("/api/chats/{chat_id}/messages", list_messages)
    app.router.add_post("/api/chats/{chat_id}/messages", post_message)
    app.router.add_post("/api/chats/{chat_id}/press", press)
    app.router.add_post("/api/chats/{chat_id}/react", react)
    app.router.add_get("/api/clock", get_clock)
    app.router.add_post("/api/clock", post_clock)
    app.router.add_post("/api/participants", post_participant)
