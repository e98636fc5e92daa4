"""A local fake Telegram Bot API server for end-to-end tests.

Oprit's e2e tests drive the real application (in-process with ``base_url`` or as the ``oprit
run`` subprocess with ``OPRIT_TELEGRAM_API_URL``) over real HTTP, so what is tested is what
python-telegram-bot actually puts on the wire. The fake is stricter than Telegram where
Telegram is silently forgiving: every call is checked against the Bot API specification (the
vendored ``telegram-bot-api.json`` next to this module) and Telegram's documented limits, and
anything wrong is answered with a 400 *and* recorded as a violation, so a misspelled parameter
or an over-long callback_data fails a test instead of misbehaving in production.

The server runs in a background thread with its own event loop, so sync tests, async tests on
any loop and subprocesses can all use it; every public method is thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import itertools
import json
import math
import os
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")
ChatId = int | str
JsonDict = dict[str, Any]

SPEC_ENV = "OPRIT_BOT_API_SPEC"
# Vendored: see tests/e2e/telegram-bot-api.md for its source and licence.
DEFAULT_SPEC_PATH = Path(__file__).with_name("telegram-bot-api.json")

BOT_ID = 900000001
FIRST_UPDATE_ID = 1000
TOPIC_ICON_COLOR = 7322096
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_CALLBACK_DATA_BYTES = 64
MAX_SENDS_PER_SECOND = 30
MAX_GROUP_SENDS_PER_MINUTE = 20
PARSE_MODES = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}

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


@dataclass(frozen=True)
class UploadedFile:
    """A file that arrived as a multipart/form-data part."""

    field: str
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


@dataclass(frozen=True)
class Call:
    """One request the fake answered, successful or not."""

    method: str
    params: JsonDict
    at: float
    wall: float
    status: int
    response: JsonDict
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether Telegram would have accepted the call."""
        return self.status == 200

    @property
    def chat_id(self) -> ChatId | None:
        """The ``chat_id`` parameter, if any."""
        value = self.params.get("chat_id")
        return value if isinstance(value, int | str) else None

    @property
    def result(self) -> Any:
        """The ``result`` of a successful response (None otherwise)."""
        return self.response.get("result")


class ApiError(Exception):
    """An error answer; ``violation`` marks it as a bug in the caller rather than a fault."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        violation: bool = False,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.violation = violation

    def body(self) -> JsonDict:
        """The JSON body Telegram would answer with."""
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> ApiError:
    """A 400 for a call that breaks the specification or a documented limit."""
    return ApiError(400, f"Bad Request: {description}", violation=True)


def max_calls_in_window(calls: Iterable[Call], window_seconds: float = 1.0) -> int:
    """The largest number of calls whose ``at`` falls within any window of that length."""
    times = sorted(call.at for call in calls)
    best = 0
    start = 0
    for end, at in enumerate(times):
        while at - times[start] >= window_seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


# --- specification ---------------------------------------------------------------------------

_INTEGER = re.compile(r"-?\d+")
_PRIMITIVES: dict[str, Callable[[Any], bool]] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
    "True": lambda v: v is True,
    "InputFile": lambda v: isinstance(v, UploadedFile),
}


class BotApiSpec:
    """The machine-readable Bot API description: method names, parameters and object types."""

    def __init__(self, data: JsonDict) -> None:
        self.version: str = data.get("version", "Bot API")
        self.methods: dict[str, dict[str, JsonDict]] = {
            name: {f["name"]: f for f in method.get("fields", [])}
            for name, method in data["methods"].items()
        }
        self.returns: dict[str, list[str]] = {
            name: method.get("returns", []) for name, method in data["methods"].items()
        }
        self.types: dict[str, JsonDict] = data["types"]
        self._canonical = {name.lower(): name for name in self.methods}
        # Methods that put a new message into a chat: these are "sends" for limits and blocking.
        self.sending_methods = frozenset(
            name
            for name, returns in self.returns.items()
            if name.startswith(("send", "copy", "forward"))
            and any(r.removeprefix("Array of ") in ("Message", "MessageId") for r in returns)
        )
        button = self.types["InlineKeyboardButton"]["fields"]
        self.inline_button_actions = frozenset(
            f["name"] for f in button if f["name"] not in ("text", "icon_custom_emoji_id", "style")
        )

    @classmethod
    def load(cls, path: Path | None = None) -> BotApiSpec:
        """Load the spec from ``path``, ``$OPRIT_BOT_API_SPEC`` or the vendored copy."""
        return _load_spec(str(path or os.environ.get(SPEC_ENV) or DEFAULT_SPEC_PATH))

    def canonical(self, method: str) -> str | None:
        """The method's canonical name (Telegram matches names case-insensitively)."""
        return self._canonical.get(method.lower())

    def decode(self, method: str, raw: JsonDict) -> JsonDict:
        """Turn form-encoded strings back into the values the spec says they are."""
        fields = self.methods[method]
        return {
            name: self._decode_value(value, fields[name]["types"]) if name in fields else value
            for name, value in raw.items()
        }

    def _decode_value(self, value: Any, types: list[str]) -> Any:
        if not isinstance(value, str):
            return value
        if "Integer" in types and _INTEGER.fullmatch(value):
            return int(value)
        if "Float" in types:
            try:
                return float(value)
            except ValueError:
                pass
        if "Boolean" in types and value in ("true", "false"):
            return value == "true"
        structured = any(t not in _PRIMITIVES for t in types)
        if structured and value.lstrip()[:1] in ("[", "{"):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def check_call(self, method: str, params: JsonDict) -> list[str]:
        """Unknown, missing and ill-typed parameters of one call."""
        fields = self.methods[method]
        problems = [f'unknown parameter "{name}"' for name in params if name not in fields]
        problems += [
            f'parameter "{name}" is required'
            for name, spec in fields.items()
            if spec["required"] and name not in params
        ]
        for name, value in params.items():
            if name in fields:
                problems += self.check_value(value, fields[name]["types"], name)
        return problems

    def check_value(self, value: Any, types: list[str], path: str) -> list[str]:
        """Problems of ``value`` against a union of spec types (empty when it fits one)."""
        best: list[str] | None = None
        for type_name in types:
            problems = self._check_one(value, type_name, path)
            if problems == []:
                return []
            if problems is not None and (best is None or len(problems) < len(best)):
                best = problems
        return best if best is not None else [f"{path} must be {' or '.join(types)}"]

    def _check_one(self, value: Any, type_name: str, path: str) -> list[str] | None:
        """Problems against one type, or None when the value is not even of its kind."""
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return None
            item_type = type_name.removeprefix("Array of ")
            return [
                problem
                for index, item in enumerate(value)
                for problem in self.check_value(item, [item_type], f"{path}[{index}]")
            ]
        if type_name in _PRIMITIVES:
            return [] if _PRIMITIVES[type_name](value) else None
        spec = self.types.get(type_name)
        if spec is None:
            return []
        if spec.get("subtypes"):
            return self.check_value(value, spec["subtypes"], path)
        if not isinstance(value, dict):
            return None
        fields = {f["name"]: f for f in spec.get("fields", [])}
        problems = [
            f'{path}: unknown field "{key}" in {type_name}' for key in value if key not in fields
        ]
        problems += [
            f'{path}: {type_name} needs field "{name}"'
            for name, f in fields.items()
            if f["required"] and name not in value
        ]
        for key, item in value.items():
            if key in fields:
                problems += self.check_value(item, fields[key]["types"], f"{path}.{key}")
        return problems


@functools.lru_cache(maxsize=4)
def _load_spec(path: str) -> BotApiSpec:
    return BotApiSpec(json.loads(Path(path).read_text(encoding="utf-8")))


# --- formatted text --------------------------------------------------------------------------


class EntityParseError(ValueError):
    """Text that Telegram answers with "can't parse entities"."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _Builder:
    """Accumulates plain text and the entities found while parsing markup."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[JsonDict] = []

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.pos - start, **extra}
            )

    def result(self) -> tuple[str, list[JsonDict]]:
        return "".join(self.parts), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_TAGS = {
    "a": "text_link",
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_HTML_CHAR_REF = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d+)|#[xX]([0-9a-fA-F]+));")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_START = re.compile(r"<([^\s>/]*)")
_HTML_END = re.compile(r"</([^\s>]*)\s*>")
_HTML_ATTR = re.compile(r"""([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _html_entity(builder: _Builder, tag: str, attrs: dict[str, str], start: int) -> None:
    kind = _HTML_TAGS[tag]
    if tag == "a":
        if "href" in attrs:
            builder.entity(kind, start, url=attrs["href"])
    elif tag == "pre" and "language" in attrs:
        builder.entity(kind, start, language=attrs["language"])
    elif tag == "blockquote" and "expandable" in attrs:
        builder.entity("expandable_blockquote", start)
    elif tag == "tg-emoji":
        builder.entity(kind, start, custom_emoji_id=attrs.get("emoji-id", ""))
    elif tag == "tg-time":
        builder.entity(kind, start, unix_time=int(attrs.get("unix", "0") or 0))
    else:
        builder.entity(kind, start)


def parse_html(text: str) -> tuple[str, list[JsonDict]]:
    """Telegram's HTML parse mode, with tdlib's error messages for bad markup."""
    builder = _Builder()
    stack: list[tuple[str, dict[str, str], int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            ref = _HTML_CHAR_REF.match(text, i)
            if ref is None:
                builder.emit("&")
                i += 1
                continue
            named, decimal, hexadecimal = ref.groups()
            builder.emit(
                _HTML_NAMED[named]
                if named
                else chr(int(decimal or hexadecimal, 16 if hexadecimal else 10))
            )
            i = ref.end()
            continue
        if char != "<":
            builder.emit(char)
            i += 1
            continue
        offset = _byte_offset(text, i)
        if text.startswith("</", i):
            end = _HTML_END.match(text, i)
            if end is None:
                raise EntityParseError(f"Can't find end of the tag at byte offset {offset}")
            name = end.group(1).lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
            tag, attrs, start = stack.pop()
            if name != tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            language = attrs.get("class", "").removeprefix("language-")
            if tag == "code" and stack and stack[-1][0] == "pre" and "class" in attrs:
                stack[-1][1]["language"] = language
            else:
                _html_entity(builder, tag, attrs, start)
            i = end.end()
            continue
        start_tag = _HTML_START.match(text, i)
        name = start_tag.group(1).lower() if start_tag else ""
        if start_tag is None or name not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
        close = text.find(">", start_tag.end())
        if close < 0:
            raise EntityParseError(f"Can't find end of the tag at byte offset {offset}")
        attrs = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _HTML_ATTR.finditer(text, start_tag.end(), close)
        }
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
            )
        stack.append((name, attrs, builder.pos))
        i = close + 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return builder.result()


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_PAIRS = (
    ("```", "pre"),
    ("__", "underline"),
    ("||", "spoiler"),
    ("![", "custom_emoji"),
    ("_", "italic"),
    ("*", "bold"),
    ("~", "strikethrough"),
    ("`", "code"),
    ("[", "text_link"),
)


def parse_markdown_v2(text: str) -> tuple[str, list[JsonDict]]:
    """Telegram's MarkdownV2 parse mode; a reserved character must be escaped with a backslash.

    Blockquote markers (``>`` at the start of a line) are accepted but make no entity.
    """
    builder = _Builder()
    stack: list[tuple[str, int, int]] = []  # (kind, start position, byte offset of the marker)
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and 0 < ord(text[i + 1]) <= 126:
            builder.emit(text[i + 1])
            i += 2
            continue
        open_kind = stack[-1][0] if stack else None
        if open_kind in ("code", "pre"):
            marker = "```" if open_kind == "pre" else "`"
            if text.startswith(marker, i):
                kind, start, _ = stack.pop()
                builder.entity(kind, start)
                i += len(marker)
            else:
                builder.emit(char)
                i += 1
            continue
        if char not in _MDV2_RESERVED:
            builder.emit(char)
            i += 1
            continue
        offset = _byte_offset(text, i)
        if char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
            continue
        if char == "]" and open_kind in ("text_link", "custom_emoji"):
            i = _close_markdown_v2_link(text, i + 1, builder, stack.pop())
            continue
        marker, kind = next(((m, k) for m, k in _MDV2_PAIRS if text.startswith(m, i)), ("", ""))
        if not kind:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        i += len(marker)
        if any(open_ == kind for open_, _, _ in stack) and kind not in (
            "text_link",
            "custom_emoji",
        ):
            if open_kind != kind:
                raise EntityParseError(
                    f"Can't find end of {open_kind} entity at byte offset {stack[-1][2]}"
                )
            _, start, _ = stack.pop()
            builder.entity(kind, start)
            continue
        if kind == "pre":
            newline = text.find("\n", i)
            if newline >= 0 and re.fullmatch(r"[\w+#.-]*", text[i:newline]):
                i = newline + 1
        stack.append((kind, builder.pos, offset))
    if stack:
        kind, _, offset = stack[-1]
        raise EntityParseError(f"Can't find end of {kind} entity at byte offset {offset}")
    return builder.result()


def _close_markdown_v2_link(
    text: str, i: int, builder: _Builder, opened: tuple[str, int, int]
) -> int:
    """Parse the ``(url)`` after a link's ``]``; returns the index after it."""
    kind, start, _ = opened
    if not text.startswith("(", i):
        return i
    url: list[str] = []
    j = i + 1
    while j < len(text) and text[j] != ")":
        if text[j] == "\\" and j + 1 < len(text):
            j += 1
        url.append(text[j])
        j += 1
    if j >= len(text):
        raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
    target = "".join(url)
    if kind == "custom_emoji":
        builder.entity(kind, start, custom_emoji_id=target.rpartition("id=")[2])
    else:
        builder.entity(kind, start, url=target)
    return j + 1


_MD_ENTITIES = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(text: str) -> tuple[str, list[JsonDict]]:
    """Telegram's legacy Markdown parse mode (no nesting, unclosed entities are errors)."""
    builder = _Builder()
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            builder.emit(text[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            builder.emit(char)
            i += 1
            continue
        unclosed = EntityParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
        )
        start = builder.pos
        if char == "[":
            end = text.find("]", i + 1)
            if end < 0:
                raise unclosed
            builder.emit(text[i + 1 : end])
            i = end + 1
            if text.startswith("(", i):
                url_end = text.find(")", i)
                if url_end < 0:
                    raise unclosed
                builder.entity("text_link", start, url=text[i + 1 : url_end])
                i = url_end + 1
            continue
        marker, kind = ("```", "pre") if text.startswith("```", i) else (char, _MD_ENTITIES[char])
        end = text.find(marker, i + len(marker))
        if end < 0:
            raise unclosed
        builder.emit(text[i + len(marker) : end])
        builder.entity(kind, start)
        i = end + len(marker)
    return builder.result()


_PARSERS: dict[str, Callable[[str], tuple[str, list[JsonDict]]]] = {
    "HTML": parse_html,
    "MarkdownV2": parse_markdown_v2,
    "Markdown": parse_markdown,
}


def format_text(
    text: str, parse_mode: str | None, entities: list[JsonDict] | None
) -> tuple[str, list[JsonDict]]:
    """The text and entities Telegram would store: markup parsed, outer whitespace trimmed."""
    if entities is None and parse_mode:
        try:
            text, entities = _PARSERS[PARSE_MODES[parse_mode.lower()]](text)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    entities = entities or []
    lead = utf16_len(text) - utf16_len(text.lstrip())
    stripped = text.strip()
    size = utf16_len(stripped)
    trimmed = []
    for entity in entities:
        begin = max(0, entity["offset"] - lead)
        end = min(size, entity["offset"] + entity["length"] - lead)
        if end > begin:
            trimmed.append({**entity, "offset": begin, "length": end - begin})
    return stripped, trimmed


# --- the server ------------------------------------------------------------------------------


@dataclass
class _Fault:
    method: str | None
    chat_id: ChatId | None
    error: ApiError | None  # None: carry the call out, then lose the answer
    remaining: int


class LostAnswer(Exception):
    """The call was carried out, but the connection closes before the answer is sent."""


class FakeBotApi:
    """A fake Telegram Bot API server on 127.0.0.1 (see the module docstring).

    Use as ``with FakeBotApi() as api:`` or ``api.start()`` / ``api.stop()``; point the bot at
    ``api.base_url``. State (updates, messages, topics) lives until ``stop``; ``clear`` only
    forgets the recorded calls and violations.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
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
            raise RuntimeError("FakeBotApi already started")
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

        self._thread = threading.Thread(target=serve, name="fake-bot-api", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)
        if failure:
            raise RuntimeError("FakeBotApi failed to start") from failure[0]
        return self

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
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
        timeout: float = 10,
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
            number = next(self._file_ids)
            info: JsonDict = {
                "file_id": f"FAKE-{kind}-{number}",
                "file_unique_id": f"fake{kind}{number}",
                "file_size": value.size,
                **extra,
            }
            self._files[info["file_id"]] = info
            return info
        known = self._files.get(str(value))
        return (
            dict(known)
            if known
            else {"file_id": str(value), "file_unique_id": str(value)[-16:], **extra}
        )

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
