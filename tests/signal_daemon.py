"""A fake signal-cli daemon in HTTP mode (`signal-cli daemon --http`) on 127.0.0.1.

It speaks what signal-cli-jsonrpc(5) and signal-cli(1) document (the shapes are listed
in bot/channels/signal/__init__.py): JSON-RPC 2.0 on `POST /api/v1/rpc`, Server-Sent
Events on `GET /api/v1/events`, `GET /api/v1/check`. It is stricter than the daemon:
every request is checked against the documented methods and their parameters (names,
types, required ones, `account` only in multi-account mode), and anything wrong is
answered as the daemon would *and* recorded as a violation, so a test fails.

Faults: `down()`/`up()` (the port refuses connections), `rate_limit(n, seconds)`,
unregistered numbers (`unregistered`), untrusted identities (`untrusted`). People:
`SignalUser(daemon, number).send("hi")` queues an incoming message, `wait_reply()` waits
for what the bot sent them. Incoming messages wait while nobody listens to the events
(like Signal's servers with `--receive-mode=on-connection`).

The server runs in its own thread and event loop, so sync tests and subprocesses can use
it; public methods are thread-safe.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
import uuid as uuids
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")
JsonDict = dict[str, Any]

STR, INT, BOOL = "string", "integer", "boolean"
STRS, INTS = "string or array of strings", "integer or array of integers"

# method -> parameter -> type; "*" marks a required one (signal-cli(1), camelCase).
METHODS: dict[str, dict[str, str]] = {
    "send": {
        "recipient": STRS,
        "groupId": STRS,
        "username": STRS,
        "noteToSelf": BOOL,
        "notifySelf": BOOL,
        "message": STR,
        "attachment": STRS,
        "attachments": STRS,
        "viewOnce": BOOL,
        "mention": STRS,
        "textStyle": STRS,
        "quoteTimestamp": INT,
        "quoteAuthor": STR,
        "quoteMessage": STR,
        "previewUrl": STR,
        "editTimestamp": INT,
        "noUrgent": BOOL,
    },
    "sendReceipt": {"recipient": "*" + STR, "targetTimestamp": "*" + INTS, "type": STR},
    "sendReaction": {
        "recipient": STRS,
        "groupId": STRS,
        "emoji": "*" + STR,
        "targetAuthor": "*" + STR,
        "targetTimestamp": "*" + INT,
        "remove": BOOL,
    },
    "listIdentities": {"number": STR},
    "trust": {"recipient": "*" + STR, "trustAllKnownKeys": BOOL, "verifiedSafetyNumber": STR},
    "listAccounts": {},
}
MULTI_ONLY = {"listAccounts"}
USER_ERROR, UNTRUSTED_KEY_ERROR, RATELIMIT_ERROR = -1, -4, -5


def _fits(value: Any, kind: str) -> bool:
    def one(item: Any, base: str) -> bool:
        if base == INT:
            return isinstance(item, int) and not isinstance(item, bool)
        if base == BOOL:
            return isinstance(item, bool)
        return isinstance(item, str)

    if kind in (STRS, INTS):
        base = STR if kind == STRS else INT
        items = value if isinstance(value, list) else [value]
        return bool(items) and all(one(item, base) for item in items)
    return one(value, kind)


@dataclass
class Sent:
    """One message the bot sent (as the daemon received it)."""

    recipient: str
    timestamp: int
    message: str
    params: JsonDict = field(default_factory=dict)


class FakeSignalDaemon:
    """See the module docstring. `account` is the bot's number."""

    def __init__(
        self, account: str = "+31600000000", *, multi_account: bool = False, keep_alive: float = 2
    ) -> None:
        self.account = account
        self.multi_account = multi_account
        self.keep_alive = keep_alive
        self.unregistered: set[str] = set()
        self.untrusted: set[str] = set()
        self.trusted_again: list[str] = []
        self.violations: list[str] = []
        self.requests: list[JsonDict] = []
        self.request_times: list[tuple[float, str]] = []
        self.sent: list[Sent] = []
        self.receipts: list[JsonDict] = []
        self._rate_limited = 0
        self._retry_after = 0
        self._pending: list[JsonDict] = []
        self._subscribers = 0
        self._streams = itertools.count(1)
        # stream number -> (sender, timestamp) of every event written to it
        self.handed_out: dict[int, list[tuple[str, int]]] = {}
        self._clock = itertools.count(int(time.time() * 1000))
        self._cond = threading.Condition(threading.RLock())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.SockSite | None = None
        self._wake: asyncio.Event | None = None
        self.port = 0

    # -- lifecycle --

    @property
    def url(self) -> str:
        """What OPRIT_SIGNAL_URL is set to."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Serve in a background thread; returns once the port accepts connections."""
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._setup())
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-signal-cli", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)
        self.up()
        return self

    async def _setup(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/api/v1/rpc", self._rpc)
        app.router.add_route("*", "/api/v1/events", self._events)
        app.router.add_route("*", "/api/v1/check", self._check)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        self._wake = asyncio.Event()

    def _run(self, coroutine: Any) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def up(self) -> None:
        """Listen (again, on the same port)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        assert self._runner is not None
        self._site = web.SockSite(self._runner, sock)
        self._run(self._site.start())

    def down(self) -> None:
        """Stop listening and drop the event streams: the daemon is away."""
        if self._site is not None:
            self._run(self._site.stop())
            self._site = None
        self._run(self._drop_streams())

    async def _drop_streams(self) -> None:
        """Close every open connection, as a stopped daemon would."""
        assert self._wake is not None and self._runner is not None
        self._wake.set()
        await asyncio.sleep(0)
        server = self._runner.server
        for connection in list(server.connections if server is not None else []):
            if connection.transport is not None:
                connection.transport.close()

    def stop(self) -> None:
        """Stop the server."""
        if self._loop is None or self._runner is None:
            return
        self.down()
        self._run(asyncio.sleep(0.05))  # the event streams see it and end
        self._run(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def assert_no_violations(self) -> None:
        """Every request followed the documented interface."""
        assert not self.violations, "\n".join(self.violations)

    # -- faults --

    def rate_limit(self, sends: int, retry_after: int = 2) -> None:
        """The next `sends` sends are refused with a rate-limit error."""
        with self._cond:
            self._rate_limited = sends
            self._retry_after = retry_after

    # -- people --

    def push(self, envelope: JsonDict) -> None:
        """Queue an incoming envelope for the event stream."""
        with self._cond:
            self._pending.append({"account": self.account, "envelope": envelope})
            self._cond.notify_all()
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def now_ms(self) -> int:
        """A fresh, increasing timestamp."""
        return next(self._clock)

    def wait_until(self, condition: Callable[[], T | None], timeout: float, what: str) -> T:
        """Block until `condition()` is truthy and return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (result := condition()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = [f"{s.recipient}: {s.message[:60]!r}" for s in self.sent[-8:]]
                    raise AssertionError(f"timed out waiting for {what}; last sent: {recent}")
                self._cond.wait(min(remaining, 0.2))
            return result

    def subscribed(self) -> bool:
        """Whether someone listens to the events."""
        with self._cond:
            return self._subscribers > 0

    def pending(self) -> int:
        """Incoming messages not handed out yet."""
        with self._cond:
            return len(self._pending)

    def sent_to(self, recipient: str) -> list[Sent]:
        """What the bot sent one person, oldest first."""
        with self._cond:
            return [s for s in self.sent if s.recipient == recipient]

    # -- HTTP --

    def _host_allowed(self, request: web.Request) -> bool:
        host = request.headers.get("Host", "")
        return host.rsplit(":", 1)[0] in ("127.0.0.1", "localhost")

    async def _check(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return web.Response(status=405)
        return web.Response(status=200)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        if not self._host_allowed(request):
            return web.Response(status=421)
        if request.method != "GET":
            return web.Response(status=405)
        account = request.query.get("account")
        if not self.multi_account and account is not None:
            self._violation("events: ?account= in single-account mode")
        if self.multi_account and account not in (None, self.account):
            return web.Response(status=400)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        assert self._wake is not None
        site = self._site
        with self._cond:
            self._subscribers += 1
            stream = next(self._streams)
            self.handed_out[stream] = []
            self._cond.notify_all()
        try:
            while self._site is site and site is not None:
                transport = request.transport
                if transport is None or transport.is_closing():
                    break  # the listener went away: what is pending waits for the next one
                with self._cond:
                    batch, self._pending = self._pending, []
                for event in batch:
                    data = json.dumps(event, ensure_ascii=False)
                    await response.write(f"event:receive\ndata:{data}\n\n".encode())
                    envelope = event["envelope"]
                    with self._cond:
                        self.handed_out[stream].append(
                            (str(envelope.get("sourceNumber")), envelope.get("timestamp"))
                        )
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.keep_alive)
                except TimeoutError:
                    await response.write(b":\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            with self._cond:
                self._subscribers -= 1
                self._cond.notify_all()
        return response

    async def _rpc(self, request: web.Request) -> web.Response:
        if not self._host_allowed(request):
            return web.Response(status=421)
        if request.method != "POST":
            return web.Response(status=405)
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            self._violation("rpc: Content-Type is not application/json")
            return web.Response(status=415)
        try:
            body = json.loads(await request.read())
        except ValueError:
            self._violation("rpc: body is not JSON")
            return self._error(None, -32700, "Parse error")
        if not isinstance(body, dict) or body.get("jsonrpc") != "2.0":
            self._violation(f"rpc: not a JSON-RPC 2.0 request: {str(body)[:80]}")
            return self._error(None, -32600, "Invalid request")
        with self._cond:
            self.requests.append(body)
            self.request_times.append((time.monotonic(), str(body.get("method"))))
        request_id, method = body.get("id"), body.get("method")
        params = body.get("params", {})
        if request_id is None:
            self._violation(f"rpc: {method} without an id (we could not match the answer)")
        if not isinstance(params, dict):
            self._violation(f"rpc: {method} params are not an object")
            return self._error(request_id, -32602, "Invalid params")
        if method not in METHODS:
            self._violation(f"rpc: unknown method {method!r}")
            return self._error(request_id, -32601, "Method not implemented")
        if method in MULTI_ONLY and not self.multi_account:
            return self._error(request_id, -32601, "Method not implemented")
        params = dict(params)
        if method not in MULTI_ONLY:
            account = params.pop("account", None)
            if self.multi_account and account != self.account:
                self._violation(f"rpc: {method} without our account in multi-account mode")
                return self._error(request_id, -32602, "Method requires valid account parameter")
            if not self.multi_account and account is not None:
                self._violation(f"rpc: {method} with an account in single-account mode")
        problems = self._check_params(method, params)
        if problems:
            self._violation(f"rpc: {method}: " + "; ".join(problems))
            return self._error(request_id, -32602, "; ".join(problems))
        return await getattr(self, f"_do_{method}")(request_id, params)

    def _check_params(self, method: str, params: JsonDict) -> list[str]:
        spec = METHODS[method]
        problems = [f"unknown parameter {name!r}" for name in params if name not in spec]
        for name, kind in spec.items():
            required = kind.startswith("*")
            kind = kind.lstrip("*")
            if name not in params:
                if required:
                    problems.append(f"missing {name!r}")
                continue
            if not _fits(params[name], kind):
                problems.append(f"{name!r} must be {kind}, not {params[name]!r}")
        if method == "send":
            if "recipient" not in params:
                problems.append("no recipient")
            if "message" not in params and "attachments" not in params:
                problems.append("neither message nor attachments")
            if "quoteTimestamp" in params and "quoteAuthor" not in params:
                problems.append("quoteTimestamp without quoteAuthor")
            for uri in _as_list(params.get("attachments", [])):
                if not (uri.startswith("data:") and ";base64," in uri):
                    problems.append("an attachment that is not an RFC 2397 data URI")
        if method == "sendReceipt" and params.get("type", "read") not in ("read", "viewed"):
            problems.append("type must be read or viewed")
        return problems

    def _violation(self, text: str) -> None:
        with self._cond:
            self.violations.append(text)

    @staticmethod
    def _answer(request_id: Any, result: Any) -> web.Response:
        return web.json_response({"jsonrpc": "2.0", "result": result, "id": request_id})

    @staticmethod
    def _error(request_id: Any, code: int, message: str, data: Any = None) -> web.Response:
        error = {"code": code, "message": message, "data": data}
        return web.json_response({"jsonrpc": "2.0", "error": error, "id": request_id})

    async def _do_listAccounts(self, request_id: Any, params: JsonDict) -> web.Response:
        return self._answer(request_id, [{"number": self.account}])

    async def _do_send(self, request_id: Any, params: JsonDict) -> web.Response:
        recipient = _as_list(params["recipient"])[0]
        timestamp = self.now_ms()
        address = {"uuid": None, "number": recipient}
        with self._cond:
            limited = self._rate_limited > 0
            if limited:
                self._rate_limited -= 1
        if limited:
            result = {
                "recipientAddress": address,
                "type": "RATE_LIMIT_FAILURE",
                "retryAfterSeconds": self._retry_after,
            }
            data = {"response": {"timestamp": timestamp, "results": [result]}}
            return self._error(request_id, RATELIMIT_ERROR, "Failed to send message", data)
        if recipient in self.unregistered:
            result = {"recipientAddress": address, "type": "UNREGISTERED_FAILURE"}
            data = {"response": {"timestamp": timestamp, "results": [result]}}
            return self._error(request_id, USER_ERROR, "Failed to send message", data)
        if recipient in self.untrusted:
            result = {"recipientAddress": address, "type": "IDENTITY_FAILURE"}
            data = {"response": {"timestamp": timestamp, "results": [result]}}
            message = "Failed to send message due to untrusted identities"
            return self._error(request_id, UNTRUSTED_KEY_ERROR, message, data)
        with self._cond:
            self.sent.append(Sent(recipient, timestamp, params.get("message", ""), params))
            self._cond.notify_all()
        results = [{"recipientAddress": address, "type": "SUCCESS"}]
        return self._answer(request_id, {"timestamp": timestamp, "results": results})

    async def _do_sendReceipt(self, request_id: Any, params: JsonDict) -> web.Response:
        with self._cond:
            self.receipts.append(params)
            self._cond.notify_all()
        timestamp = self.now_ms()
        results = [{"recipientAddress": {"number": params["recipient"]}, "type": "SUCCESS"}]
        return self._answer(request_id, {"timestamp": timestamp, "results": results})

    async def _do_sendReaction(self, request_id: Any, params: JsonDict) -> web.Response:
        return self._answer(request_id, {"timestamp": self.now_ms(), "results": []})

    async def _do_listIdentities(self, request_id: Any, params: JsonDict) -> web.Response:
        number = params.get("number")
        level = "UNTRUSTED" if number in self.untrusted else "TRUSTED_UNVERIFIED"
        found = [{"number": number, "uuid": None, "fingerprint": "05ab", "trustLevel": level}]
        return self._answer(request_id, found if number else [])

    async def _do_trust(self, request_id: Any, params: JsonDict) -> web.Response:
        with self._cond:
            self.untrusted.discard(params["recipient"])
            self.trusted_again.append(params["recipient"])
        return self._answer(request_id, {})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class SignalUser:
    """A person on Signal writing to the bot's number."""

    def __init__(self, daemon: FakeSignalDaemon, number: str, name: str = "Sam") -> None:
        self.daemon = daemon
        self.number = number
        self.uuid = str(uuids.uuid5(uuids.NAMESPACE_URL, number))
        self.name = name
        self._seen = 0

    def envelope(self, data: JsonDict | None = None, **extra: Any) -> JsonDict:
        """An envelope from this person (signal-cli-jsonrpc(5) example), with `data` as its
        dataMessage."""
        stamp = self.daemon.now_ms()
        envelope: JsonDict = {
            "source": self.number,
            "sourceNumber": self.number,
            "sourceUuid": self.uuid,
            "sourceName": self.name,
            "sourceDevice": 1,
            "timestamp": stamp,
            "serverReceivedTimestamp": stamp + 5,
            "serverDeliveredTimestamp": stamp + 9,
        }
        if data is not None:
            envelope["dataMessage"] = {"timestamp": stamp, "expiresInSeconds": 0, **data}
        envelope.update(extra)
        return envelope

    def send(self, text: str) -> int:
        """Write a message; returns its timestamp."""
        envelope = self.envelope({"message": text, "viewOnce": False})
        self.daemon.push(envelope)
        return int(envelope["timestamp"])

    def replies(self) -> list[str]:
        """Everything the bot sent this person."""
        return [s.message for s in self.daemon.sent_to(self.number)]

    def wait_reply(self, containing: str = "", timeout: float = 15) -> str:
        """The next message from the bot (containing the text), advancing past it."""
        needle = containing.casefold()

        def find() -> str | None:
            messages = self.replies()
            for index in range(self._seen, len(messages)):
                if needle in messages[index].casefold():
                    self._seen = index + 1
                    return messages[index]
            return None

        return self.daemon.wait_until(
            find, timeout, f"a reply to {self.number} with {containing!r}"
        )
