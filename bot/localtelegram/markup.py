"""Telegram's parse modes (HTML, MarkdownV2, Markdown): the text and entities Telegram would
store, and its error messages for bad markup."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.localtelegram.spec import JsonDict, bad_request

PARSE_MODES = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}


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
