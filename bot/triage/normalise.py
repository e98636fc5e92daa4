"""Text normalisation: the text exactly as the rules (and the model) see it.

Lower case, accents stripped (NFKD), weapon and pill emoji mapped to a Dutch word (🔪 → mes,
🔫 → pistool) and other emoji dropped, digits read as letters inside words that mix both
(``d00d`` → dood, but "14:00", "113" and "06-12345678" stay), apostrophes and invisible
characters removed, punctuation turned into spaces or a clause break ``|``, and repeated
letters collapsed (so "dooood" and "dood" are the same word). `_Normalised.span` maps a
span of the normalised text back to the original, so the officer sees the words as the
person wrote them. Messages and lexicon phrases go through the same function, so they
always agree.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

_EMOJI: dict[str, str] = {
    "🔪": "mes",
    "🗡": "mes",
    "⚔": "mes",
    "🔫": "pistool",
    "💣": "bom",
    "🧨": "bom",
    "💊": "pillen",
    "💉": "naald",
    "🪢": "strop",
    "🩸": "bloed",
    "⚰": "doodskist",
    "🪦": "graf",
}
_APOSTROPHES = frozenset("'`´‘’ʼʻ′")
# invisible formatting (zero-width, direction marks, soft hyphen) and control characters are
# dropped, so they cannot split a word ("d\u202eood"); broken surrogates, private-use and
# unassigned characters are mostly (parts of) emoji and become a space, like emoji
_INVISIBLE = frozenset({"Cf"})
_BREAKS = frozenset(".,;:!?¡¿…\n\r\u2028\u2029،؛؟۔")
_SPECIAL: dict[str, str] = {
    "ł": "l",
    "ı": "i",
    "ß": "ss",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ى": "ي",
    "ة": "ه",
    "ـ": "",
}
_LEET = str.maketrans("013457", "oieast")
_DIGIT = re.compile(r"\d")
_MIXED = re.compile(r"(?<!\w)(?=[^\W\d_]+\d|\d+[^\W\d_])\w+")
_SQUEEZE = re.compile(r"([^\W\d_])\1+|[ |]{2,}")
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1+")
_BREAK_RUN = re.compile(r" *\|[ |]*")
_SPACE_RUN = re.compile(r" {2,}")


def _fold_letters(text: str) -> str:
    """Lower case without accents; the part of normalisation that regex sources also get."""
    if text.isascii():
        # nothing to decompose and no special letter: most rule sources and messages
        return text.lower()
    out: list[str] = []
    for char in unicodedata.normalize("NFKD", text.lower()):
        if unicodedata.category(char) in ("Mn", "Me"):
            continue
        out.append(_SPECIAL.get(char, char))
    return "".join(out)


def _fold_char(char: str) -> str:
    """The normalised form of one character of a message (any length, often one)."""
    if char in _EMOJI:
        return f" {_EMOJI[char]} "
    if char in _APOSTROPHES:
        return ""
    if char in _BREAKS:
        return "|"
    category = unicodedata.category(char)
    if category in _INVISIBLE or (category == "Cc" and not char.isspace()):
        return ""
    out: list[str] = []
    for part in _fold_letters(char):
        if part.isalpha():
            out.append(part)
        elif part.isdigit():
            digit = unicodedata.digit(part, None)
            out.append(" " if digit is None else str(digit))
        elif part in _BREAKS:
            out.append("|")
        elif part not in _APOSTROPHES and unicodedata.category(part) not in _INVISIBLE:
            out.append(" ")
    return "".join(out)


class _FoldTable(dict[int, str]):
    """`str.translate` table filled on first sight of a character, so folding runs in C.

    Bounded, so a stream of exotic characters cannot grow it without end; characters
    beyond the bound are folded each time. `irregular` holds the characters whose folded
    form is not exactly one character (the position map needs them).
    """

    LIMIT = 1 << 16

    def __init__(self) -> None:
        super().__init__()
        self.irregular: set[str] = set()

    def __missing__(self, key: int) -> str:
        value = _fold_char(chr(key))
        if len(self) < self.LIMIT:
            self[key] = value
        if len(value) != 1:
            self.irregular.add(chr(key))
        return value


_TABLE = _FoldTable()


@functools.cache
def _irregular_pattern(chars: frozenset[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(char) for char in sorted(chars)) + "]")


@dataclass
class _Normalised:
    """Normalised text, and a lazily built map from its positions back to the original.

    The map is only needed when something matched, so ordinary messages never pay for it.
    Never changed once built; not a frozen dataclass only because building one of those
    costs a microsecond more, on every message.
    """

    text: str
    source: str
    folded: str

    @functools.cached_property
    def _segments(self) -> tuple[list[int], list[int], list[bool]]:
        """Runs of `folded` that map one-to-one to `source`, or all to one source character."""
        starts, origins, linear = [0], [0], [True]
        irregular = _TABLE.irregular.intersection(self.source)
        if irregular:
            position = previous = 0
            for found in _irregular_pattern(frozenset(irregular)).finditer(self.source):
                index = found.start()
                if index > previous:
                    starts.append(position)
                    origins.append(previous)
                    linear.append(True)
                    position += index - previous
                replacement = _TABLE[ord(self.source[index])]
                if replacement:
                    starts.append(position)
                    origins.append(index)
                    linear.append(False)
                    position += len(replacement)
                previous = index + 1
            starts.append(position)
            origins.append(previous)
            linear.append(True)
        return starts, origins, linear

    @functools.cached_property
    def _squeezed(self) -> tuple[str, list[int], list[int]]:
        return _squeeze(self.folded)

    def _folded(self, position: int) -> int:
        """Position in `folded` of the character at `position` of the normalised text."""
        _, starts, offsets = self._squeezed
        return position + offsets[bisect_right(starts, position) - 1]

    def _source(self, folded: int) -> int:
        """Index in the original text of the character at `folded` of the folded text."""
        starts, origins, linear = self._segments
        index = bisect_right(starts, folded) - 1
        if linear[index]:
            return origins[index] + folded - starts[index]
        return origins[index]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original text span behind `text[start:end]`, collapsed letters included."""
        last = self._folded(end) - 1
        return self._source(self._folded(start)), self._source(last) + 1


def _squeeze(folded: str) -> tuple[str, list[int], list[int]]:
    """Collapse repeated letters and runs of spaces, remembering how many were dropped where.

    Gives the same text as the fast substitutions in `_normalise` (a test checks this).
    """
    pieces: list[str] = []
    starts, offsets = [0], [0]
    deleted = last = 0
    for run in _SQUEEZE.finditer(folded):
        start, end = run.span()
        pieces.append(folded[last:start])
        pieces.append(run.group(1) or ("|" if "|" in run.group() else " "))
        deleted += end - start - 1
        starts.append(end - deleted)
        offsets.append(deleted)
        last = end
    pieces.append(folded[last:])
    return "".join(pieces), starts, offsets


def _normalise(text: str) -> _Normalised:
    """Normalise a message (or a lexicon phrase: the same function, so they always agree)."""
    folded = text.translate(_TABLE)
    if _DIGIT.search(folded):
        folded = _MIXED.sub(lambda mixed: mixed.group().translate(_LEET), folded)
    squeezed = folded
    for letter in set(_REPEATED_LETTER.findall(folded)):
        double = letter * 2
        while double in squeezed:
            squeezed = squeezed.replace(double, letter)
    squeezed = _SPACE_RUN.sub(" ", _BREAK_RUN.sub("|", squeezed))
    return _Normalised(text=squeezed, source=text, folded=folded)


def normalise(text: str) -> str:
    """The text exactly as the rules see it (for people writing and testing rules)."""
    return _normalise(text).text
