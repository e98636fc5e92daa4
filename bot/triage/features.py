"""The learned detector's features: the same pure-Python code at training and at run time.

A message is normalised exactly as the rules see it (`bot.triage.normalise`: case, accents,
emoji, digits as letters, repeated letters collapsed) and cut into words. Its features are

- character n-grams of 2 to 5 characters inside each word padded with a space on both sides
  (like scikit-learn's ``char_wb``): these carry spelling variants, typos, glued words
  ("kzweet") and word endings across languages;
- the words themselves (``w:`` + word) and pairs of neighbouring words in the same clause
  (``b:`` + word + space + word).

Negation: the NEGATION_SCOPE words after a negation word of the lexicons ("niet", "geen",
"dont", "nie", "ما", ...) give their n-grams and word feature marked with ``~`` instead,
up to a clause word ("maar", "ik", "but") or the end of the clause, as the rules do. So
"ik wil niet dood" does not look like "ik wil dood" to the model, while "ik wil niet meer
leven" and "i cant take it anymore" are learnt as they are written.

A feature counts once per word it comes from (an n-gram in two words counts twice, a
word pair once per time it occurs): so a message's features are the sum of its words' own,
and the scorer adds one remembered total per word instead of looking up hundreds of
n-grams. Its value is count × idf divided by sqrt(NORM_PRIOR + the sum of count × idf² over
the message's features), counting features the model does not know with the largest idf,
so the score of a message does not depend on which features were kept in the model file.
NORM_PRIOR damps short messages: a two-word "al gedaan" otherwise gets as much weight from
its few n-grams as a long message from all of its own, and chance n-grams then decide.
Every feature comes from one word (or a pair), so the model's decision can be explained with
the participant's own words.
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

MIN_N = 2
MAX_N = 5
WORD_PREFIX = "w:"
BIGRAM_PREFIX = "b:"
# long words are cut: a "word" of 10,000 letters gives no more n-grams than one of 40
MAX_WORD = 40
NEGATION_SCOPE = 3
NEGATED = "~"
NORM_PRIOR = 1000.0

_TOKEN = re.compile(r"\w+|\|")


def tokens(normal: str) -> list[tuple[str, int, int]]:
    """Words of a normalised text with their spans; "|" (a clause break) is kept as a token."""
    return [(found.group(), found.start(), found.end()) for found in _TOKEN.finditer(normal)]


def _word_names(word: str) -> set[str]:
    """The character n-grams of one word (padded with spaces) and the word feature itself."""
    padded = f" {word[:MAX_WORD]} "
    length = len(padded)
    grams = {
        padded[start : start + size]
        for size in range(MIN_N, MAX_N + 1)
        for start in range(length - size + 1)
    }
    grams.add(WORD_PREFIX + word)
    return grams


@dataclass(frozen=True)
class Negation:
    """The negation words and the clause words that end a negation's reach."""

    negations: frozenset[str]
    clause_words: frozenset[str]


NO_NEGATION = Negation(frozenset(), frozenset())


def keys(normal: str, negation: Negation = NO_NEGATION) -> tuple[list[str], list[str]]:
    """A normalised text as the scorer sees it: one key per token (the word, NEGATED + the
    word in a negation's scope, "" for a clause break; see `key_features`) and the word
    pairs of every clause."""
    words = _TOKEN.findall(normal)
    found: list[str] = []
    pairs: list[str] = []
    scope = 0
    previous = ""
    for word in words:
        if word == "|":
            scope = 0
            previous = ""
            found.append("")
            continue
        negated = scope > 0
        if word in negation.negations:
            scope, negated = NEGATION_SCOPE, False
        elif word in negation.clause_words:
            scope, negated = 0, False
        elif scope:
            scope -= 1
        found.append(NEGATED + word if negated else word)
        if previous:
            pairs.append(f"{BIGRAM_PREFIX}{previous} {word}")
        previous = word
    return found, pairs


def key_names(key: str) -> Iterable[str]:
    """The features of one token key of `keys` (a word in a negation's scope gives its own
    marked with NEGATED), not remembered: the scorer remembers each word's total instead."""
    if not key:
        return ()
    if key[0] == NEGATED:
        return [NEGATED + name for name in _word_names(key[1:])]
    return _word_names(key)


@functools.lru_cache(maxsize=1 << 16)
def key_features(key: str) -> frozenset[str]:
    """`key_names`, remembered: training counts the same words' features again and again."""
    return frozenset(key_names(key))


def features(normal: str, negation: Negation = NO_NEGATION) -> collections.Counter[str]:
    """All features of a normalised text with their counts (see the module docstring)."""
    found, pairs = keys(normal, negation)
    counts: collections.Counter[str] = collections.Counter(pairs)
    for key in found:
        counts.update(key_features(key))
    return counts
