"""Typo tolerance for the crisis vocabulary of the rules.

People in crisis type fast, on a phone, sometimes by voice: "zelfmort", "sucide",
"vermoorde", "zelf moord", "op hangen", "kil". Before the rules are tried a second time, a
copy of the normalised message is corrected:

- a word in a lexicon's ``[spellings]`` table is replaced by its standard spelling
  ("kil" → "kill", "tonite" → "tonight");
- two neighbouring words that together make a crisis word are joined ("zelf moord" →
  "zelfmoord", "door snijden" → "doorsnijden");
- a word of at least MIN_LENGTH letters that is not a word of any lexicon and is one edit
  (a letter added, dropped, changed, or two neighbours swapped) away from a crisis word with
  the same first letter is replaced by that word ("zelmoord", "sucide", "vermoorde").

Crisis words are the words of at least MIN_LENGTH letters written in the self_harm and
violence rules (phrases, and whole words in patterns). Lookups use a "deletes" index (every
crisis word with one letter dropped), so a message costs a few dictionary lookups per long
word. The rules then run on both the message and the corrected copy; a match in the copy is
mapped back to the words the person typed. Corrections can only add matches, never hide one.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import pairwise

MIN_LENGTH = 6
# longer messages are not corrected (the rules still read all of them)
MAX_TEXT = 10_000

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Typos:
    """What the corrector knows: crisis words, words never corrected, chat spellings."""

    vocabulary: frozenset[str]
    known: frozenset[str]
    spellings: dict[str, str]
    deletes: dict[str, tuple[str, ...]]
    # every crisis word split in two by a space ("zelf moord"): the word pairs to join
    splits: frozenset[str]
    # the correction of each word seen (None: none), bounded (words repeat across messages)
    seen: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)
    # the words of `seen` that need no correction: most words of a message, checked at once
    clean: set[str] = field(default_factory=set, compare=False, repr=False)


def _deletes(word: str) -> set[str]:
    return {word[:index] + word[index + 1 :] for index in range(len(word))}


def build(vocabulary: set[str], known: set[str], spellings: dict[str, str]) -> Typos:
    """Index the crisis words for lookups at edit distance one."""
    index: dict[str, set[str]] = {}
    for word in vocabulary:
        for key in {word} | _deletes(word):
            index.setdefault(key, set()).add(word)
    return Typos(
        vocabulary=frozenset(vocabulary),
        known=frozenset(known | vocabulary),
        spellings=dict(spellings),
        deletes={key: tuple(sorted(words)) for key, words in index.items()},
        splits=frozenset(
            f"{word[:end]} {word[end:]}" for word in vocabulary for end in range(1, len(word))
        ),
    )


def within_one(first: str, second: str) -> bool:
    """Are the words at most one edit apart (insert, delete, substitute, swap neighbours)?"""
    if first == second:
        return True
    short, long = sorted((first, second), key=len)
    if len(long) - len(short) > 1:
        return False
    start = 0
    while start < len(short) and short[start] == long[start]:
        start += 1
    if len(short) == len(long):
        if short[start + 1 :] == long[start + 1 :]:
            return True
        return (
            start + 1 < len(short)
            and short[start] == long[start + 1]
            and short[start + 1] == long[start]
            and short[start + 2 :] == long[start + 2 :]
        )
    return short[start:] == long[start + 1 :]


SEEN_LIMIT = 1 << 16


def _fix(word: str, typos: Typos) -> str | None:
    """The correction of one word: its standard chat spelling, or the crisis word one edit
    away from a long word no lexicon knows (first letter kept); remembered."""
    if word in typos.seen:
        return typos.seen[word]
    answer = typos.spellings.get(word)
    if answer is None and len(word) >= MIN_LENGTH and word not in typos.known and word.isalpha():
        answer = _search(word, typos)
    if len(typos.seen) >= SEEN_LIMIT:
        typos.seen.clear()
        typos.clean.clear()
    typos.seen[word] = answer
    if answer is None:
        typos.clean.add(word)
    return answer


def _search(word: str, typos: Typos) -> str | None:
    found: set[str] = set()
    for key in {word} | _deletes(word):
        found.update(typos.deletes.get(key, ()))
    for candidate in sorted(found):
        if candidate[0] == word[0] and within_one(word, candidate):
            return candidate
    return None


@dataclass(frozen=True)
class Corrected:
    """A corrected copy of a normalised text, and how to map its spans back."""

    text: str
    # (start in copy, end in copy, start in text, end in text) of each replacement, in order
    replacements: tuple[tuple[int, int, int, int], ...]

    def position(self, index: int, end: bool) -> int:
        """The position in the original text of `index` in the copy (a start or an end)."""
        starts = [item[0] for item in self.replacements]
        found = bisect_right(starts, index - 1 if end else index) - 1
        if found < 0:
            return index
        start, stop, old_start, old_stop = self.replacements[found]
        if (start < index <= stop) if end else (start <= index < stop):
            return old_stop if end else old_start
        return index - stop + old_stop

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A span of the copy as a span of the original normalised text."""
        return self.position(start, end=False), self.position(end, end=True)


def correct(text: str, typos: Typos) -> Corrected | None:
    """The corrected copy of a normalised text, or None when nothing needed correcting."""
    if len(text) > MAX_TEXT or not typos.vocabulary:
        return None
    tokens = _TOKEN.findall(text)
    unchecked = set(tokens).difference(typos.clean)
    if not any(_fix(word, typos) for word in unchecked) and typos.splits.isdisjoint(
        map(" ".join, pairwise(tokens))
    ):
        return None
    words = list(_TOKEN.finditer(text))
    pieces: list[str] = []
    replacements: list[tuple[int, int, int, int]] = []
    last = 0
    length = 0
    index = 0
    while index < len(words):
        word = words[index]
        start, end = word.span()
        fix: str | None = None
        if index + 1 < len(words) and words[index + 1].start() == end + 1 and text[end] == " ":
            joined = word.group() + words[index + 1].group()
            if joined in typos.vocabulary:
                fix, end = joined, words[index + 1].end()
                index += 1
        if fix is None:
            fix = _fix(word.group(), typos)
        index += 1
        if fix is None:
            continue
        pieces.append(text[last:start])
        length += start - last
        replacements.append((length, length + len(fix), start, end))
        pieces.append(fix)
        length += len(fix)
        last = end
    if not replacements:
        return None
    pieces.append(text[last:])
    return Corrected(text="".join(pieces), replacements=tuple(replacements))
