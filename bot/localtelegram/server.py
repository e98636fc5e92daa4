"""A local Telegram: a Bot API server on 127.0.0.1 that keeps its chats in memory.

The tests, the benchmarks and `oprit demo` all run the real bot against it over real HTTP
(``OPRIT_TELEGRAM_API_URL``), so what is exercised is what python-telegram-bot actually
puts on the wire. It is stricter than Telegram where Telegram is silently forgiving: every
call is checked against the Bot API specification (the vendored ``telegram-bot-api.json``
in this package) and Telegram's documented limits, and anything wrong is answered with a
400 *and* recorded as a violation, so a misspelled parameter or an over-long callback_data
fails a test instead of misbehaving in production.

The server runs in a background thread with its own event loop, so sync tests, async tests on
any loop and subprocesses can all use it; every public method is thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from bot.localtelegram.markup import PARSE_MODES, format_text
from bot.localtelegram.spec import (
    ApiError,
    BotApiSpec,
    Call,
    ChatId,
    JsonDict,
    UploadedFile,
    bad_request,
)

T = TypeVar("T")
# Not a secret: the local server accepts only the token it was started with.
LOCAL_TOKEN = "123456:LOCAL-token"  # noqa: S105

BOT_ID = 900000001
FIRST_UPDATE_ID = 1000
TOPIC_ICON_COLOR = 7322096
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_CALLBACK_DATA_BYTES = 64
MAX_SENDS_PER_SECOND = 30
MAX_GROUP_SENDS_PER_MINUTE = 20

BLOCKED = "Forbidden: bot was blocked by the user"
NEVER_STARTED = "Forbidden: bot can't initiate conversation with a user"
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: BLOCKED,
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
# Update types Telegram leaves out when allowed_updates is empty or was never set.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Message keys that describe the message itself rather than its content (not copied).
ENVELOPE_KEYS = frozenset(
    {
        "message_id",
        "from",
        "chat",
        "date",
        "edit_date",
        "reply_to_message",
        "message_thread_id",
        "is_topic_message",
        "reply_markup",
        "forward_origin",
        "sender_chat",
    }
)


@dataclass
class _Fault:
    method: str | None
    chat_id: ChatId | None
    error: ApiError | None  # None: carry the call out, then lose the answer
    remaining: int


class LostAnswer(Exception):
    """The call was carried out, but the connection closes before the answer is sent."""


class LocalTelegram:
    """A fake Telegram Bot API server on 127.0.0.1 (see the module docstring).

    Use as ``with LocalTelegram() as api:`` or ``api.start()`` / ``api.stop()``; point the bot at
    ``api.base_url``. State (updates, messages, topics) lives until ``stop``; ``clear`` only
    forgets the recorded calls and violations.
    """

    def __init__(
        self,
        token: str = LOCAL_TOKEN,
        *,
        bot_username: str = "oprit_test_bot",
        enforce_flood_limits: bool = True,
        group_window_seconds: float = 60.0,
        every_chat_open: bool = False,
        spec_path: Path | None = None,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_user: JsonDict = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Oprit",
            "username": bot_username,
        }
        self.spec = BotApiSpec.load(spec_path)
        self.enforce_flood_limits = enforce_flood_limits
        self.group_window_seconds = group_window_seconds
        # Benchmarks put thousands of signed-up participants straight into the database:
        # they opened the bot long ago, so no chat answers "can't initiate conversation".
        self.every_chat_open = every_chat_open
        self._opened: set[ChatId] = set()
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._violations: list[str] = []
        self._faults: list[_Fault] = []
        self._delay = 0.0
        self._blocked: dict[ChatId, str] = {}
        self._updates: list[JsonDict] = []
        self._next_update_id = FIRST_UPDATE_ID
        self._confirmed_offset = 0
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._webhook: JsonDict | None = None
        self._messages: dict[ChatId, dict[int, JsonDict]] = {}
        self._last_message_id: dict[ChatId, int] = {}
        self._chats: dict[ChatId, JsonDict] = {}
        self._callback_query_ids: set[str] = set()
        self._topics: dict[tuple[ChatId, int], str] = {}
        self._deleted_topics: set[tuple[ChatId, int]] = set()
        self._staff_topics: set[tuple[ChatId, int]] = set()
        self._commands: dict[str, list[JsonDict]] = {}
        self._menu_buttons: dict[ChatId | None, JsonDict] = {}
        self._files: dict[str, JsonDict] = {}
        self._file_data: dict[str, tuple[bytes, str]] = {}
        self._reply_keyboards: dict[tuple[ChatId, int], JsonDict] = {}
        self._reactions: dict[tuple[ChatId, int], list[JsonDict]] = {}
        self._file_ids = itertools.count(1)
        self._send_log: deque[tuple[float, ChatId]] = deque()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._updates_event: asyncio.Event | None = None
        self._port = 0

    # -- lifecycle --

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (valid after ``start``)."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """What to pass as PTB's ``base_url`` or ``OPRIT_TELEGRAM_API_URL``."""
        return f"{self.url}/bot"

    def start(self) -> Self:
        """Start serving in a background thread; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError("LocalTelegram already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(sock))
            except BaseException as exc:  # reported to the starting thread below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=serve, name="local-telegram", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)
        if failure:
            raise RuntimeError("LocalTelegram failed to start") from failure[0]
        return self

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/files/{file_id}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        self._updates_event = asyncio.Event()
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        """Stop the server; pending long polls return empty at once."""
        loop, thread, runner = self._loop, self._thread, self._runner
        if loop is None or thread is None or runner is None:
            return
        with self._cond:
            self._closing = True
        loop.call_soon_threadsafe(self._wake_pollers)
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- recorded calls --

    def calls(self, method: str | None = None, chat_id: ChatId | None = None) -> list[Call]:
        """Recorded calls, oldest first, optionally of one method and/or chat."""
        wanted = method.lower() if method else None
        with self._cond:
            return [
                c
                for c in self._calls
                if (wanted is None or c.method.lower() == wanted)
                and (chat_id is None or c.chat_id == chat_id)
            ]

    def sent_messages(self, chat_id: ChatId | None = None) -> list[Call]:
        """Successful calls that put a message into a chat (sendX, copyMessage, forward...)."""
        with self._cond:
            return [
                c
                for c in self._calls
                if c.ok
                and c.method in self.spec.sending_methods
                and (chat_id is None or c.chat_id == chat_id)
            ]

    @property
    def violations(self) -> list[str]:
        """Human-readable descriptions of calls that broke the spec or Telegram's limits."""
        with self._cond:
            return list(self._violations)

    def assert_no_violations(self) -> None:
        """Raise AssertionError listing every violation so far."""
        found = self.violations
        if found:
            raise AssertionError(
                f"{len(found)} Bot API violation(s):\n" + "\n".join(f"- {v}" for v in found)
            )

    def clear(self) -> None:
        """Forget recorded calls and violations (chat state and queued updates stay)."""
        with self._cond:
            self._calls.clear()
            self._violations.clear()

    # -- updates --

    def push_update(self, update: JsonDict) -> int:
        """Queue an update for getUpdates; assigns the next ``update_id`` when missing."""
        with self._cond:
            update = copy.deepcopy(update)
            update_id = update.setdefault("update_id", self._next_update_id)
            problems = self.spec.check_value(update, ["Update"], "update")
            if problems:
                raise ValueError("unrealistic update: " + "; ".join(problems))
            self._next_update_id = max(self._next_update_id, update_id + 1)
            self._learn_from_update(update)
            self._updates.append(update)
            self._updates.sort(key=lambda u: u["update_id"])
            self._cond.notify_all()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake_pollers)
        return int(update_id)

    def _learn_from_update(self, update: JsonDict) -> None:
        """Remember chats, messages and callback ids so later calls can refer to them."""
        query = update.get("callback_query")
        if query:
            self._callback_query_ids.add(query["id"])
            self._unblock(query["from"]["id"])
            self._opened.add(query["from"]["id"])
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            message = update.get(key)
            if not message:
                continue
            chat_id = message["chat"]["id"]
            self._chats[chat_id] = message["chat"]
            self._store(chat_id, message)
            if message["chat"]["type"] == "private":
                self._unblock(chat_id)
                self._opened.add(chat_id)

    def open_chat(self, chat_id: ChatId, first_name: str = "User") -> None:
        """The user opened the bot earlier (sent /start before the test began)."""
        with self._cond:
            self._opened.add(chat_id)
            self._chats.setdefault(
                chat_id, {"id": chat_id, "type": "private", "first_name": first_name}
            )

    def add_topic(self, chat_id: ChatId, name: str) -> int:
        """Staff create a forum topic themselves (not through the bot); returns its id."""
        with self._cond:
            thread = self.next_message_id(chat_id)
            self._topics[(chat_id, thread)] = name
            self._staff_topics.add((chat_id, thread))
            return thread

    def _unblock(self, chat_id: ChatId) -> None:
        """A user who writes to the bot has started it and does not block it."""
        self._blocked.pop(chat_id, None)

    def pending_updates(self) -> list[JsonDict]:
        """Queued updates not yet confirmed by an offset."""
        with self._cond:
            return copy.deepcopy(self._updates)

    def last_update_id(self) -> int:
        """The update_id of the newest update pushed so far."""
        with self._cond:
            return self._next_update_id - 1

    @property
    def confirmed_offset(self) -> int:
        """The highest getUpdates offset seen so far (0 before any)."""
        with self._cond:
            return self._confirmed_offset

    @property
    def webhook(self) -> JsonDict | None:
        """The parameters of the active setWebhook call, or None."""
        with self._cond:
            return copy.deepcopy(self._webhook)

    # -- chat state --

    def next_message_id(self, chat_id: ChatId) -> int:
        """Allocate a message id in a chat (users' and the bot's messages share the sequence)."""
        with self._cond:
            self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
            return self._last_message_id[chat_id]

    def last_message_id(self, chat_id: ChatId) -> int:
        """The highest message id used in a chat so far (0 for none)."""
        with self._cond:
            return self._last_message_id.get(chat_id, 0)

    def message(self, chat_id: ChatId, message_id: int) -> JsonDict | None:
        """The current state of a message (after edits), or None if unknown or deleted."""
        with self._cond:
            return copy.deepcopy(self._messages.get(chat_id, {}).get(message_id))

    def bot_messages(self, chat_id: ChatId, thread_id: int | None = None) -> list[JsonDict]:
        """The bot's messages in a chat (current state), oldest first; optionally in a topic."""
        with self._cond:
            return [
                copy.deepcopy(m)
                for _, m in sorted(self._messages.get(chat_id, {}).items())
                if m.get("from", {}).get("id") == BOT_ID
                and (thread_id is None or m.get("message_thread_id") == thread_id)
            ]

    def messages(self, chat_id: ChatId) -> list[JsonDict]:
        """Every message in a chat as it is now (users' and the bot's), oldest first."""
        with self._cond:
            return [copy.deepcopy(m) for _, m in sorted(self._messages.get(chat_id, {}).items())]

    def reply_keyboard(self, chat_id: ChatId, message_id: int) -> JsonDict | None:
        """The reply keyboard (or its removal) a bot message was sent with, if any."""
        with self._cond:
            return copy.deepcopy(self._reply_keyboards.get((chat_id, message_id)))

    def reactions(self, chat_id: ChatId, message_id: int) -> list[JsonDict]:
        """The reactions on a message (ReactionType objects)."""
        with self._cond:
            return copy.deepcopy(self._reactions.get((chat_id, message_id), []))

    def react(self, chat_id: ChatId, message_id: int, emoji: str) -> None:
        """A person puts a reaction on a message (shown like Telegram shows it)."""
        with self._cond:
            self._stored(chat_id, message_id, "message to react not found")
            self._reactions[(chat_id, message_id)] = [{"type": "emoji", "emoji": emoji}]
            self._cond.notify_all()

    def upload(self, data: bytes, kind: str, content_type: str, **extra: Any) -> JsonDict:
        """A file a person sends: stored like Telegram stores it; returns its file object."""
        with self._cond:
            return self._keep_file(data, kind, content_type, **extra)

    def file_bytes(self, file_id: str) -> tuple[bytes, str] | None:
        """The bytes and MIME type of a stored file, or None."""
        with self._cond:
            return self._file_data.get(file_id)

    def add_group(self, chat_id: int, title: str) -> None:
        """A forum supergroup the bot is a member of (the staff group)."""
        with self._cond:
            self._chats[chat_id] = {
                "id": chat_id,
                "type": "supergroup",
                "title": title,
                "is_forum": True,
            }

    def chat(self, chat_id: ChatId) -> JsonDict:
        """The Chat object of a chat (known or made up from its id)."""
        with self._cond:
            return self._chat(chat_id)

    def topics(self, chat_id: ChatId) -> dict[int, str]:
        """Forum topics the bot created in a chat and that still exist: thread id → name."""
        with self._cond:
            return {
                thread: name
                for (chat, thread), name in self._topics.items()
                if chat == chat_id
                and (chat, thread) not in self._deleted_topics
                and (chat, thread) not in self._staff_topics
            }

    @property
    def deleted_topics(self) -> frozenset[tuple[ChatId, int]]:
        """(chat_id, message_thread_id) of deleted forum topics."""
        with self._cond:
            return frozenset(self._deleted_topics)

    def delete_topic(self, chat_id: ChatId, thread_id: int) -> None:
        """Simulate staff deleting a forum topic in their client."""
        with self._cond:
            self._deleted_topics.add((chat_id, thread_id))

    # -- fault injection --

    def fail_next(
        self,
        method: str | None = None,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        count: int = 1,
        chat_id: ChatId | None = None,
        lose_answer: bool = False,
    ) -> None:
        """Answer the next ``count`` matching calls with an error.

        ``method=None`` matches any method except getUpdates (the polling loop would otherwise
        swallow the fault); pass ``"getUpdates"`` explicitly to fail polling. With
        ``lose_answer`` the call is carried out (a message is delivered) and then the
        connection closes without an answer, as when a timeout hits after Telegram got it.
        """
        if lose_answer:
            with self._cond:
                self._faults.append(_Fault(method, chat_id, None, count))
            return
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            text = description or f"Too Many Requests: retry after {retry_after}"
        else:
            text = description or DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        with self._cond:
            self._faults.append(
                _Fault(method, chat_id, ApiError(status, text, retry_after=retry_after), count)
            )

    def clear_faults(self) -> None:
        """Forget every fault injected with `fail_next` that has not been used up."""
        with self._cond:
            self._faults.clear()

    def block_chat(self, chat_id: ChatId, *, notify: bool = True) -> None:
        """The user blocks the bot: later sends answer 403; a my_chat_member update is queued."""
        with self._cond:
            self._blocked[chat_id] = BLOCKED
            user = self._chats.get(chat_id, {"id": chat_id, "first_name": "User"})
        if notify:
            person = {"id": chat_id, "is_bot": False, "first_name": user.get("first_name", "User")}
            self.push_update(
                {
                    "my_chat_member": {
                        "chat": {
                            "id": chat_id,
                            "type": "private",
                            "first_name": person["first_name"],
                        },
                        "from": person,
                        "date": int(time.time()),
                        "old_chat_member": {"status": "member", "user": self.bot_user},
                        "new_chat_member": {
                            "status": "kicked",
                            "user": self.bot_user,
                            "until_date": 0,
                        },
                    }
                }
            )

    def never_started(self, chat_id: ChatId) -> None:
        """The user never opened the bot: sends answer 403 until they write to it."""
        with self._cond:
            self._blocked[chat_id] = NEVER_STARTED

    def delay(self, seconds: float) -> None:
        """Add latency to every response from now on."""
        with self._cond:
            self._delay = seconds

    # -- waiting --

    def wait_until(self, condition: Callable[[], T | None], timeout: float, description: str) -> T:
        """Block until ``condition()`` is truthy (re-checked on every change) and return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (result := condition()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {description}\n"
                        + self.describe_recent_calls()
                    )
                self._cond.wait(min(remaining, 0.5))
            return result

    def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10,
        chat_id: ChatId | None = None,
        predicate: Callable[[Call], bool] | None = None,
        *,
        since: float | None = None,
    ) -> list[Call]:
        """Wait until at least ``count`` matching calls (``at >= since``) exist; returns all."""

        def matching() -> list[Call]:
            found = [
                c
                for c in self.calls(method, chat_id)
                if (since is None or c.at >= since) and (predicate is None or predicate(c))
            ]
            return found if len(found) >= count else []

        return self.wait_until(matching, timeout, f"{count} {method} call(s)")

    async def wait_for_calls_async(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10,  # noqa: ASYNC109 (the same arguments as wait_for_calls)
        chat_id: ChatId | None = None,
        predicate: Callable[[Call], bool] | None = None,
        *,
        since: float | None = None,
    ) -> list[Call]:
        """``wait_for_calls`` without blocking the caller's event loop."""
        return await asyncio.to_thread(
            self.wait_for_calls, method, count, timeout, chat_id, predicate, since=since
        )

    def wait_until_confirmed(self, update_id: int, timeout: float = 10) -> None:
        """Wait until the bot confirmed (acknowledged with a higher offset) ``update_id``."""
        self.wait_until(
            lambda: self._confirmed_offset > update_id, timeout, f"update {update_id} confirmed"
        )

    def describe_recent_calls(self, limit: int = 15) -> str:
        """A short listing of the last calls, for failure messages."""
        with self._cond:
            recent = self._calls[-limit:]
            total = len(self._calls)
        lines = [f"last {len(recent)} of {total} call(s):"]
        for c in recent:
            params = ", ".join(f"{k}={_short(v)}" for k, v in c.params.items())
            error = "" if c.ok else f" {c.response.get('description', '')}"
            lines.append(f"  {c.method} -> {c.status}{error} ({params})")
        return "\n".join(lines)

    # -- HTTP --

    async def _download(self, request: web.Request) -> web.Response:
        """The file download URL of getFile's file_path, as api.telegram.org/file/ serves it."""
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        stored = self.file_bytes(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        data, mime_type = stored
        return web.Response(body=data, content_type=mime_type)

    async def _handle(self, request: web.Request) -> web.Response:
        at, wall = time.monotonic(), time.time()
        method = request.match_info["method"]
        params: JsonDict = {}
        files: dict[str, UploadedFile] = {}
        try:
            params, files = await _read_params(request)
            with self._cond:
                delay = self._delay
            if delay:
                await asyncio.sleep(delay)
            canonical = self.spec.canonical(method)
            if canonical:
                # Parts uploaded for attach://<name> references are files, not parameters.
                fields = self.spec.methods[canonical]
                params = {k: v for k, v in params.items() if k in fields or k not in files}
                params = self.spec.decode(canonical, params)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if canonical is None:
                raise ApiError(404, "Not Found", violation=True)
            method = canonical
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                with self._cond:
                    result = self._process(method, params, at)
            status, body = 200, {"ok": True, "result": result}
        except LostAnswer:
            with self._cond:
                self._calls.append(Call(method, params, at, wall, 0, {"lost": True}, files))
                self._cond.notify_all()
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError from None
        except ApiError as exc:
            status, body = exc.status, exc.body()
            if exc.violation:
                self._violation(method, params, exc.description)
        except Exception as exc:  # a bug in the fake must fail the test loudly, not hang it
            failure = ApiError(500, f"Internal Server Error: the fake failed: {exc!r}")
            status, body = failure.status, failure.body()
            self._violation(method, params, failure.description)
        with self._cond:
            self._calls.append(Call(method, params, at, wall, status, body, files))
            self._cond.notify_all()
        return web.json_response(body, status=status)

    def _violation(self, method: str, params: JsonDict, description: str) -> None:
        shown = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
        with self._cond:
            self._violations.append(f"{method}({shown}): {description}")

    def _process(self, method: str, params: JsonDict, at: float) -> Any:
        """Check and answer one call (under the lock)."""
        self._check_spec(method, params)
        self._check_limits(method, params)
        lose = self._inject_fault(method, params)
        chat_id: Any = params.get("chat_id")
        sending = method in self.spec.sending_methods
        if sending or method == "sendChatAction":
            if isinstance(chat_id, str):
                raise ApiError(400, "Bad Request: chat not found")
            if chat_id in self._blocked:
                raise ApiError(403, self._blocked[chat_id])
            opened = self.every_chat_open or chat_id in self._opened
            if isinstance(chat_id, int) and chat_id > 0 and not opened:
                raise ApiError(403, NEVER_STARTED)
        thread = params.get("message_thread_id")
        if thread is not None and isinstance(chat_id, int) and chat_id < 0:
            known = (chat_id, thread) in self._topics
            if not known or (chat_id, thread) in self._deleted_topics:
                raise ApiError(400, "Bad Request: message thread not found")
        if sending:
            self._check_flood(chat_id, at)
        handler = getattr(self, f"_m_{method}", None)
        if handler is not None:
            result = handler(params)
        elif self.spec.returns[method] == ["Message"] and "chat_id" in params:
            result = self._send(params, self._media(method, params))
        else:
            result = True
        if sending:
            self._send_log.append((at, chat_id))
        if lose:
            raise LostAnswer
        return result

    def _check_spec(self, method: str, params: JsonDict) -> None:
        problems = self.spec.check_call(method, params)
        if problems:
            raise bad_request(f"{problems[0]} ({self.spec.version})")

    def _check_limits(self, method: str, params: JsonDict) -> None:
        """Telegram's documented limits that the spec's types cannot express."""
        mode = params.get("parse_mode")
        if mode is not None and str(mode).lower() not in PARSE_MODES:
            raise bad_request("unsupported parse_mode")
        if method in ("sendMessage", "editMessageText") and "text" in params:
            text, _ = format_text(params["text"], mode, params.get("entities"))
            if not text:
                raise bad_request("message text is empty")
            if len(text) > MAX_TEXT_LENGTH:
                raise bad_request("message is too long")
        if "caption" in params and method != "answerCallbackQuery":
            caption, _ = format_text(params["caption"], mode, params.get("caption_entities"))
            if len(caption) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
        if (
            method == "answerCallbackQuery"
            and len(params.get("text", "")) > MAX_CALLBACK_ANSWER_LENGTH
        ):
            raise bad_request("MESSAGE_TOO_LONG")
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    self._check_inline_button(button)

    def _check_inline_button(self, button: JsonDict) -> None:
        data = button.get("callback_data")
        if data is not None and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
        actions = self.spec.inline_button_actions.intersection(button)
        if len(actions) != 1:
            raise bad_request(
                "can't parse inline keyboard button: exactly one of "
                f"{', '.join(sorted(self.spec.inline_button_actions))} must be used, "
                f"got {sorted(actions) or 'none'} in button {button.get('text')!r}"
            )

    def _inject_fault(self, method: str, params: JsonDict) -> bool:
        """Raise the error of a matching fault; True when the answer must be lost."""
        for fault in self._faults:
            if fault.method is None and method == "getUpdates":
                continue
            if fault.method is not None and fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            if fault.error is None:
                return True
            raise fault.error
        return False

    def _check_flood(self, chat_id: ChatId | None, at: float) -> None:
        while self._send_log and at - self._send_log[0][0] >= max(60, self.group_window_seconds):
            self._send_log.popleft()
        if not self.enforce_flood_limits:
            return
        last_second = [t for t, _ in self._send_log if at - t < 1]
        if len(last_second) >= MAX_SENDS_PER_SECOND:
            self._flood(f"more than {MAX_SENDS_PER_SECOND} messages per second", 1)
        if isinstance(chat_id, int) and chat_id < 0:
            window = self.group_window_seconds
            into_group = [t for t, c in self._send_log if c == chat_id and at - t < window]
            if len(into_group) >= MAX_GROUP_SENDS_PER_MINUTE:
                wait = math.ceil(window - (at - into_group[0]))
                self._flood(
                    f"more than {MAX_GROUP_SENDS_PER_MINUTE} messages per minute into group "
                    f"{chat_id}",
                    wait,
                )

    def _flood(self, what: str, retry_after: int) -> None:
        with self._cond:
            self._violations.append(f"flood limit: {what}")
        raise ApiError(
            429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
        )

    # -- getUpdates --

    def _wake_pollers(self) -> None:
        """Wake every waiting getUpdates (runs on the server loop)."""
        if self._updates_event is not None:
            self._updates_event.set()
            self._updates_event = asyncio.Event()

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        with self._cond:
            self._check_spec("getUpdates", params)
            self._inject_fault("getUpdates", params)
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            offset = int(params.get("offset", 0))
            limit = min(max(int(params.get("limit", 100)), 1), 100)
            timeout = min(max(float(params.get("timeout", 0)), 0.0), 50.0)
            if "allowed_updates" in params:
                self._allowed_updates = frozenset(params["allowed_updates"]) or None
            self._confirm(offset)
            self._poll_generation += 1
            generation = self._poll_generation
        self._wake_pollers()  # an older long poll is now superseded
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                batch = [u for u in self._updates if self._allowed(u)][:limit]
                closing = self._closing
            event = self._updates_event
            remaining = deadline - time.monotonic()
            if batch or closing or remaining <= 0 or event is None:
                return copy.deepcopy(batch)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _allowed(self, update: JsonDict) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self._allowed_updates is None:
            return kind not in OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._confirmed_offset = max(self._confirmed_offset, offset)
        elif offset < 0:
            dropped, self._updates = self._updates[:offset], self._updates[offset:]
            if dropped:
                self._confirmed_offset = max(self._confirmed_offset, dropped[-1]["update_id"] + 1)
        self._cond.notify_all()

    # -- messages --

    def _chat(self, chat_id: ChatId) -> JsonDict:
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if isinstance(chat_id, int) and chat_id > 0:
            return {"id": chat_id, "type": "private"}
        return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}", "is_forum": True}

    def _store(self, chat_id: ChatId, message: JsonDict) -> None:
        self._messages.setdefault(chat_id, {})[message["message_id"]] = message
        last = self._last_message_id.get(chat_id, 0)
        self._last_message_id[chat_id] = max(last, message["message_id"])
        self._cond.notify_all()

    def _stored(self, chat_id: Any, message_id: Any, missing: str) -> JsonDict:
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise ApiError(400, f"Bad Request: {missing}")
        return message

    def _send(self, params: JsonDict, content: JsonDict) -> JsonDict:
        """Store and return a new bot message with ``content`` in ``params['chat_id']``."""
        chat_id = params["chat_id"]
        message: JsonDict = {
            "message_id": self.next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        thread = params.get("message_thread_id")
        if thread is not None:
            message["message_thread_id"] = thread
            if message["chat"]["type"] != "private":
                message["is_topic_message"] = True
        reply_to: Any = (params.get("reply_parameters") or {}).get("message_id")
        replied = self._messages.get(chat_id, {}).get(reply_to)
        if replied is not None:
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        message.update(content)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            # Telegram only echoes inline keyboards; reply keyboards are not part of a Message.
            message["reply_markup"] = markup
        elif isinstance(markup, dict) and ("keyboard" in markup or "remove_keyboard" in markup):
            self._reply_keyboards[(chat_id, message["message_id"])] = markup
        self._store(chat_id, message)
        return copy.deepcopy(message)

    def _text_content(self, params: JsonDict, key: str = "caption") -> JsonDict:
        if key not in params:
            return {}
        entities_key = "entities" if key == "text" else "caption_entities"
        text, entities = format_text(
            params[key], params.get("parse_mode"), params.get(entities_key)
        )
        content: JsonDict = {key: text}
        if entities:
            content[entities_key] = entities
        return content

    def _file(self, value: Any, kind: str, **extra: Any) -> JsonDict:
        """A file object for an upload or a reused file_id."""
        if isinstance(value, UploadedFile):
            info = self._keep_file(value.data, kind, value.content_type, **extra)
            return info
        known = self._files.get(str(value))
        return (
            dict(known)
            if known
            else {"file_id": str(value), "file_unique_id": str(value)[-16:], **extra}
        )

    def _keep_file(self, data: bytes, kind: str, content_type: str, **extra: Any) -> JsonDict:
        """Store uploaded bytes under a new file_id (under the lock); `extra` goes into the
        file object (a document's file_name and mime_type, a photo's size)."""
        number = next(self._file_ids)
        info: JsonDict = {
            "file_id": f"LOCAL-{kind}-{number}",
            "file_unique_id": f"local{kind}{number}",
            "file_size": len(data),
            **extra,
        }
        self._files[info["file_id"]] = info
        self._file_data[info["file_id"]] = (data, content_type or "application/octet-stream")
        return dict(info)

    def _media(self, method: str, params: JsonDict) -> JsonDict:
        """Message content for sendX methods other than sendMessage."""
        content = self._text_content(params)
        if method == "sendDocument":
            doc = params["document"]
            extra = (
                {"file_name": doc.filename, "mime_type": doc.content_type}
                if isinstance(doc, UploadedFile)
                else {}
            )
            content["document"] = self._file(doc, "document", **extra)
        elif method == "sendPhoto":
            content["photo"] = [self._file(params["photo"], "photo", width=90, height=90)]
        elif method == "sendVoice":
            voice = self._file(params["voice"], "voice", mime_type="audio/ogg")
            content["voice"] = {"duration": int(params.get("duration", 1)), **voice}
        elif method == "sendSticker":
            content["sticker"] = self._file(
                params["sticker"],
                "sticker",
                type="regular",
                width=512,
                height=512,
                is_animated=False,
                is_video=False,
            )
        elif method == "sendLocation":
            content["location"] = {
                "latitude": params["latitude"],
                "longitude": params["longitude"],
            }
        return content

    # -- method handlers (called under the lock with checked params) --

    def _m_getMe(self, params: JsonDict) -> JsonDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_sendMessage(self, params: JsonDict) -> JsonDict:
        return self._send(params, self._text_content(params, "text"))

    def _m_forwardMessage(self, params: JsonDict) -> JsonDict:
        source = self._stored(
            params["from_chat_id"], params["message_id"], "message to forward not found"
        )
        content = {k: v for k, v in source.items() if k not in ENVELOPE_KEYS}
        origin = {"type": "user", "sender_user": source.get("from", {}), "date": source["date"]}
        return self._send(params, {**copy.deepcopy(content), "forward_origin": origin})

    def _m_copyMessage(self, params: JsonDict) -> JsonDict:
        source = self._stored(
            params["from_chat_id"], params["message_id"], "message to copy not found"
        )
        content = copy.deepcopy({k: v for k, v in source.items() if k not in ENVELOPE_KEYS})
        if "caption" in params and "text" not in content:
            content.pop("caption_entities", None)
            content.update(self._text_content(params))
        return {"message_id": self._send(params, content)["message_id"]}

    def _edit(self, params: JsonDict, change: Callable[[JsonDict], None]) -> JsonDict | bool:
        if "inline_message_id" in params:
            return True
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("message identifier is not specified")
        current = self._stored(params["chat_id"], params["message_id"], "message to edit not found")
        if current.get("from", {}).get("id") != BOT_ID:
            raise ApiError(400, "Bad Request: message can't be edited")
        edited = copy.deepcopy(current)
        change(edited)
        markup = params.get("reply_markup")
        if markup:
            edited["reply_markup"] = markup
        else:
            edited.pop("reply_markup", None)
        if edited == current:
            raise ApiError(400, NOT_MODIFIED)
        edited["edit_date"] = int(time.time())
        self._store(params["chat_id"], edited)
        return copy.deepcopy(edited)

    def _m_editMessageText(self, params: JsonDict) -> JsonDict | bool:
        def change(message: JsonDict) -> None:
            if "text" not in message:
                raise ApiError(400, "Bad Request: there is no text in the message to edit")
            message.pop("entities", None)
            message.update(self._text_content(params, "text"))

        return self._edit(params, change)

    def _m_editMessageCaption(self, params: JsonDict) -> JsonDict | bool:
        def change(message: JsonDict) -> None:
            message.pop("caption", None)
            message.pop("caption_entities", None)
            message.update(self._text_content(params))

        return self._edit(params, change)

    def _m_editMessageReplyMarkup(self, params: JsonDict) -> JsonDict | bool:
        return self._edit(params, lambda message: None)

    def _m_deleteMessage(self, params: JsonDict) -> bool:
        self._stored(params["chat_id"], params["message_id"], "message to delete not found")
        del self._messages[params["chat_id"]][params["message_id"]]
        self._cond.notify_all()
        return True

    def _m_setMessageReaction(self, params: JsonDict) -> bool:
        self._stored(params["chat_id"], params["message_id"], "message to react not found")
        self._reactions[(params["chat_id"], params["message_id"])] = list(
            params.get("reaction") or []
        )
        self._cond.notify_all()
        return True

    def _m_answerCallbackQuery(self, params: JsonDict) -> bool:
        if params["callback_query_id"] not in self._callback_query_ids:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        return True

    def _m_createForumTopic(self, params: JsonDict) -> JsonDict:
        chat_id = params["chat_id"]
        thread = self.next_message_id(chat_id)
        topic = {
            "message_thread_id": thread,
            "name": params["name"],
            "icon_color": params.get("icon_color", TOPIC_ICON_COLOR),
        }
        self._topics[(chat_id, thread)] = params["name"]
        # Telegram posts a service message that every later message in the topic replies to.
        self._store(
            chat_id,
            {
                "message_id": thread,
                "from": dict(self.bot_user),
                "chat": self._chat(chat_id),
                "date": int(time.time()),
                "message_thread_id": thread,
                "is_topic_message": True,
                "forum_topic_created": {"name": params["name"], "icon_color": topic["icon_color"]},
            },
        )
        return topic

    def _m_deleteForumTopic(self, params: JsonDict) -> bool:
        self._deleted_topics.add((params["chat_id"], params["message_thread_id"]))
        return True

    def _m_editForumTopic(self, params: JsonDict) -> bool:
        key = (params["chat_id"], params["message_thread_id"])
        if "name" in params and key in self._topics:
            self._topics[key] = params["name"]
        return True

    def _m_getChat(self, params: JsonDict) -> JsonDict:
        return {
            **self._chat(params["chat_id"]),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_getFile(self, params: JsonDict) -> JsonDict:
        file_id = params["file_id"]
        info = self._files.get(file_id, {"file_id": file_id, "file_unique_id": file_id[-16:]})
        return {
            "file_id": file_id,
            "file_unique_id": info["file_unique_id"],
            "file_size": info.get("file_size", 1024),
            "file_path": f"files/{file_id}",
        }

    @staticmethod
    def _commands_key(params: JsonDict) -> str:
        scope = json.dumps(params.get("scope", {"type": "default"}), sort_keys=True)
        return f"{scope}|{params.get('language_code', '')}"

    def _m_setMyCommands(self, params: JsonDict) -> bool:
        self._commands[self._commands_key(params)] = params["commands"]
        return True

    def _m_deleteMyCommands(self, params: JsonDict) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _m_getMyCommands(self, params: JsonDict) -> list[JsonDict]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _m_setChatMenuButton(self, params: JsonDict) -> bool:
        self._menu_buttons[params.get("chat_id")] = params.get("menu_button", {"type": "default"})
        return True

    def _m_getChatMenuButton(self, params: JsonDict) -> JsonDict:
        return copy.deepcopy(self._menu_buttons.get(params.get("chat_id"), {"type": "default"}))

    def _m_setWebhook(self, params: JsonDict) -> bool:
        self._webhook = {k: v for k, v in params.items() if k != "certificate"}
        if params.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _m_deleteWebhook(self, params: JsonDict) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _drop_pending(self) -> None:
        if self._updates:
            self._confirm(self._updates[-1]["update_id"] + 1)

    def _m_getWebhookInfo(self, params: JsonDict) -> JsonDict:
        hook = self._webhook or {}
        info: JsonDict = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        for key in ("max_connections", "allowed_updates", "ip_address"):
            if key in hook:
                info[key] = hook[key]
        return info


async def _read_params(request: web.Request) -> tuple[JsonDict, dict[str, UploadedFile]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: JsonDict = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise bad_request("can't parse JSON request body") from exc
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                upload = UploadedFile(name, value.filename, value.content_type, value.file.read())
                files[name] = upload
                params[name] = upload
            else:
                params[name] = value if isinstance(value, str) else value.decode("utf-8")
    return params, files


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, UploadedFile):
        return f"<file {value.filename!r} {value.size} bytes>"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
