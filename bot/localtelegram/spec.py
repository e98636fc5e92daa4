"""The Bot API as data: the vendored specification (methods, parameters, object types), the
call record and the error answers shared by the server and its parsers."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

ChatId = int | str
JsonDict = dict[str, Any]

SPEC_ENV = "OPRIT_BOT_API_SPEC"
# Vendored: see telegram-bot-api.md beside it for its source and licence.
SPEC_FILE = "telegram-bot-api.json"


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
        return _load_spec(str(path or os.environ.get(SPEC_ENV) or ""))

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
    """The spec at `path`, or the copy shipped in this package when `path` is empty."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files(__package__).joinpath(SPEC_FILE).read_text(encoding="utf-8")
    return BotApiSpec(json.loads(text))
