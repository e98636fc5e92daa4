"""The learned detector: a pure-Python scorer for the model file `model.json`.

`python -m bot.triage.train` trains one logistic regression per category (one-vs-rest) on
the labelled corpus in tests/triage/corpus/ with scikit-learn and writes `model.json`;
running the bot needs neither scikit-learn nor numpy. The file holds, for every kept
feature (see `bot.triage.features`), its inverse document frequency and its weight for each
category quantised to a small integer, packed into one hexadecimal number (see `pack`), one
scale and intercept per category, the thresholds chosen by grouped cross-validation, the
cross-validation figures, the model's version and the SHA-256 of the corpus files it was
trained on.

Scoring a message: the features of its normalised text are looked up in one dict whose
values pack the integers of a feature (idf² and ten weights) into one Python int. A
message's features are the sum of its words' own (see `bot.triage.features`), and the
packed sum of a word's features is remembered, so a message costs one lookup and one
addition per word and per word pair; the sum is unpacked once. The score of category c is
``intercept[c] + scale[c] * sum(weights) / norm`` with ``norm = sqrt(NORM_PRIOR +
sum(idf²))`` over all the message's features (unknown ones count with the largest idf), and
its probability the logistic of that.

Long text is scored in windows of WINDOW characters (at most MAX_WINDOWS of them: the first
and the last ones), taking the highest probability per category; the rules read all of it.

How the model and the rules are combined is `decide`: a category is flagged when the rules
fire or its probability reaches the category's threshold; where the rules fire their
severity stands, otherwise the severity comes from the probability (self_harm and violence:
high from the flag threshold, critical from a higher one; other categories: the category's
usual severity in the corpus). `ask` is set when self_harm is not flagged but its
probability is in the band below the threshold: the bot then asks a caring question.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.triage import features

MODEL_PATH = Path(__file__).with_name("model.json")
FORMAT = 2
# packing: 24 bits per field (fewer bits, faster sums); weights (at most OFFSET - 1 either
# way) are stored + OFFSET so a field never goes negative; a window of WINDOW characters
# has at most about 4,500 features, far fewer than 2**24 / (2 * OFFSET) = 8,192
FIELD_BITS = 24
FIELD_MASK = (1 << FIELD_BITS) - 1
OFFSET = 1024
# field 0 counts the known features, field 1 holds idf² as a multiple of 1/IDF_STEPS, field
# 2 counts the unknown features, the weights follow
IDF_STEPS = 4
UNKNOWN = 1 << (2 * FIELD_BITS)
FIRST_WEIGHT = 3
WINDOW = 1_000
MAX_WINDOWS = 16
# words whose packed feature sums the scorer remembers
WORD_TOTALS = 1 << 15
# the most frequent words the model knows by name, whose sums are worked out at load: today
# all 16,657 (0.25-0.33 s of start-up; the 5,000 most frequent saved 0.15 s of it and cost
# 4-8 % of the speed), bounded so that a larger model does not load ever slower
VOCABULARY_WORDS = 20_000
# explanation: at most this many words or phrases, each weighing at least EXPLAIN_SHARE of
# the strongest one
EXPLAIN_WORDS = 3
EXPLAIN_SHARE = 0.3

_SPACE = re.compile(r"[ |]")


def corpus_digest(directory: Path) -> dict[str, Any]:
    """SHA-256 of every corpus file (`*.jsonl`) and of them all together, in name order."""
    files = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.glob("*.jsonl"))
    }
    combined = hashlib.sha256(
        "".join(f"{name}\t{digest}\n" for name, digest in files.items()).encode()
    )
    return {"files": files, "sha256": combined.hexdigest()}


def pack(idf2: int, weights: Sequence[int]) -> int:
    """One feature's fields as one int: known count 1, idf² (a multiple of 1/IDF_STEPS), no
    unknown features, each quantised weight + OFFSET; stored in the model file in hexadecimal
    (building the ints at start-up took most of a second)."""
    if not 0 < idf2 < 1 << FIELD_BITS or not all(-OFFSET < weight < OFFSET for weight in weights):
        raise ValueError(f"cannot pack idf² {idf2} and weights {list(weights)}")
    number = 1 | (idf2 << FIELD_BITS)
    for index, weight in enumerate(weights, start=FIRST_WEIGHT):
        number |= (weight + OFFSET) << (FIELD_BITS * index)
    return number


def _logistic(score: float) -> float:
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    exp = math.exp(score)
    return exp / (1.0 + exp)


def _weight(packed: int, shift: int) -> int:
    """The summed quantised weight, for the category at bit `shift`, of the features a packed
    number adds up (one feature, or a word's or message's total: each stored + OFFSET)."""
    return ((packed >> shift) & FIELD_MASK) - (packed & FIELD_MASK) * OFFSET


@dataclass(frozen=True)
class Decision:
    """The model and the rules together: severity per flagged category, most severe first
    (then by name); which of them only the model flagged; and whether to ask."""

    severities: dict[str, str]
    by_model: tuple[str, ...]
    ask: bool


@dataclass(frozen=True, eq=False)
class Model:
    """A loaded model file (see the module docstring)."""

    version: int
    categories: tuple[str, ...]
    intercepts: tuple[float, ...]
    scales: tuple[float, ...]
    unknown_idf2: float
    packed: dict[str, int]
    flag: dict[str, float]
    critical: dict[str, float]
    ask: float
    severity: dict[str, str]
    negation: features.Negation
    info: dict[str, Any] = field(repr=False)
    # the packed sum of one word's features, by its key (see features.keys): the same words
    # come back all the time (bounded, see _word_total)
    word_totals: dict[str, int] = field(default_factory=dict, repr=False)
    # the totals of the most frequent words the model knows by name, worked out once at
    # load: a new process then scores a message of common words as fast as one it has seen
    vocabulary: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        prefix = features.WORD_PREFIX
        known = [name for name in self.packed if name.startswith(prefix)]
        # the lowest idf is the most frequent word
        known.sort(key=lambda name: (self.packed[name] >> FIELD_BITS) & FIELD_MASK)
        for name in known[:VOCABULARY_WORDS]:
            word = name[len(prefix) :]
            self.vocabulary[word] = self._sum(features.key_names(word))
        self.word_totals.update(self.vocabulary)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        """Check a parsed model file and build the scorer."""
        if data.get("format") != FORMAT:
            raise ValueError(f"model file format {data.get('format')!r}, expected {FORMAT}")
        settings = data["features"]
        expected = {
            "min_n": features.MIN_N,
            "max_n": features.MAX_N,
            "max_word": features.MAX_WORD,
            "norm_prior": features.NORM_PRIOR,
            "negation_scope": features.NEGATION_SCOPE,
        }
        if {key: settings.get(key) for key in expected} != expected:
            raise ValueError(f"model file was built with other features: {settings}")
        categories = tuple(data["categories"])
        width = len(categories)
        try:
            packed = {name: int(value, 16) for name, value in data["packed"].items()}
        except (TypeError, ValueError):
            raise ValueError("model file: a packed feature is not a hexadecimal number") from None
        if packed and max(map(int.bit_length, packed.values())) > FIELD_BITS * (
            width + FIRST_WEIGHT
        ):
            raise ValueError("model file: a packed feature has more fields than categories")
        thresholds = data["thresholds"]
        return cls(
            version=int(data["version"]),
            categories=categories,
            intercepts=tuple(float(value) for value in data["intercepts"]),
            scales=tuple(float(value) for value in data["scales"]),
            unknown_idf2=float(data["unknown_idf2"]),
            packed=packed,
            flag={name: float(value) for name, value in thresholds["flag"].items()},
            critical={name: float(value) for name, value in thresholds["critical"].items()},
            ask=float(thresholds["ask"]),
            severity={name: str(value) for name, value in data["severity"].items()},
            negation=features.Negation(
                negations=frozenset(data["negation"]["negations"]),
                clause_words=frozenset(data["negation"]["clause_words"]),
            ),
            info={
                key: data[key]
                for key in ("version", "corpus", "dev", "training", "cv")
                if key in data
            },
        )

    # --- scoring ---------------------------------------------------------------------------

    def total(self, normal: str) -> int:
        """The packed sum of all features of a normalised text (see the module docstring)."""
        words, pairs = features.keys(normal, self.negation)
        remembered = self.word_totals.get
        totals = [remembered(word) or self._word_total(word) for word in words]
        return sum(totals) + sum(map(self.packed.get, pairs, itertools.repeat(UNKNOWN)))

    def scores(self, total: int) -> list[float]:
        """The linear score of every category for one packed sum of features."""
        known = total & FIELD_MASK
        idf2 = ((total >> FIELD_BITS) & FIELD_MASK) / IDF_STEPS
        idf2 += ((total >> (2 * FIELD_BITS)) & FIELD_MASK) * self.unknown_idf2
        norm = math.sqrt(features.NORM_PRIOR + idf2)
        shift = known * OFFSET
        return [
            intercept + scale * (((total >> (FIELD_BITS * index)) & FIELD_MASK) - shift) / norm
            for index, (intercept, scale) in enumerate(
                zip(self.intercepts, self.scales, strict=True), start=FIRST_WEIGHT
            )
        ]

    def probabilities(self, normal: str) -> list[float]:
        """Probability of every category (in `categories` order) for a normalised text."""
        best: list[float] | None = None
        for start, end in windows(normal):
            probabilities = [
                _logistic(score) for score in self.scores(self.total(normal[start:end]))
            ]
            best = probabilities if best is None else list(map(max, best, probabilities))
        return best if best is not None else [_logistic(value) for value in self.intercepts]

    def _sum(self, names: Iterable[str]) -> int:
        """The packed sum of some features (an unknown one counts in the unknown field)."""
        return sum(map(self.packed.get, names, itertools.repeat(UNKNOWN)))

    def _word_total(self, word: str) -> int:
        """The packed sum of one word's features, remembered (the vocabulary and at most
        WORD_TOTALS other words)."""
        total = self.word_totals.get(word)
        if total is None:
            if len(self.word_totals) >= len(self.vocabulary) + WORD_TOTALS:
                self.word_totals.clear()
                self.word_totals.update(self.vocabulary)
            total = self._sum(features.key_names(word))
            self.word_totals[word] = total
        return total

    def explain(self, normal: str, category: str) -> list[tuple[int, int]]:
        """Spans of `normal` (whole words, neighbours merged) that weighed most for `category`.

        A word weighs the sum of the weights of its own features (its n-grams and the word
        itself) plus half of each word pair it is in; the words with the largest positive
        weight are kept (at most EXPLAIN_WORDS, each at least EXPLAIN_SHARE of the largest).
        """
        index = self.categories.index(category)
        parts = windows(normal)
        offset, stop = parts[0]
        if len(parts) > 1:
            best = -math.inf
            for start, end in parts:
                score = self.scores(self.total(normal[start:end]))[index]
                if score > best:
                    (offset, stop), best = (start, end), score
        text = normal[offset:stop]
        words = features.tokens(text)
        keys, pairs = features.keys(text, self.negation)
        shift = FIELD_BITS * (index + FIRST_WEIGHT)
        share = [float(_weight(self._word_total(key), shift)) for key in keys]
        # `pairs` holds the word pairs in the order of their second word
        pair_values = iter(map(self.packed.get, pairs))
        previous = -1
        for place, key in enumerate(keys):
            if not key:
                previous = -1
                continue
            if previous >= 0 and (value := next(pair_values)) is not None:
                half = _weight(value, shift) / 2
                share[previous] += half
                share[place] += half
            previous = place
        ranked = sorted((value, place) for place, value in enumerate(share) if value > 0)
        if not ranked:
            return []
        top = ranked[-1][0]
        chosen = sorted(
            place for value, place in ranked[-EXPLAIN_WORDS:] if value >= top * EXPLAIN_SHARE
        )
        spans: list[list[int]] = []
        for place in chosen:
            _, start, end = words[place]
            if spans and spans[-1][2] == place - 1:
                spans[-1][1] = end
                spans[-1][2] = place
            else:
                spans.append([start, end, place])
        return [(offset + start, offset + end) for start, end, _ in spans]

    # --- combination with the rules --------------------------------------------------------

    @functools.cached_property
    def _flags(self) -> tuple[float, ...]:
        """The flag threshold of every category, in `categories` order (2: never)."""
        return tuple(self.flag.get(category, 2.0) for category in self.categories)

    @functools.cached_property
    def _harm(self) -> int | None:
        """Where self_harm is in `categories` (the ask decision reads it)."""
        return self.categories.index("self_harm") if "self_harm" in self.categories else None

    def decide(self, rules: dict[str, str], probabilities: Sequence[float]) -> Decision:
        """Combine the rules' categories (with severity) and the model's probabilities."""
        severities = dict(rules)
        by_model: list[str] = []
        for category, chance, flag in zip(self.categories, probabilities, self._flags, strict=True):
            if chance < flag or category in severities:
                continue
            by_model.append(category)
            critical = self.critical.get(category)
            if critical is not None:
                severities[category] = "critical" if chance >= critical else "high"
            else:
                severities[category] = self.severity[category]
        harm = 0.0 if self._harm is None else probabilities[self._harm]
        ask = "self_harm" not in severities and harm >= self.ask
        return Decision(severities=severities, by_model=tuple(by_model), ask=ask)


def windows(normal: str) -> list[tuple[int, int]]:
    """Where to score a normalised text: all of it, or windows cut at spaces (see above)."""
    if len(normal) <= WINDOW:
        return [(0, len(normal))]
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(normal):
        end = min(len(normal), start + WINDOW)
        if end < len(normal):
            cut = max(normal.rfind(" ", start, end), normal.rfind("|", start, end))
            end = cut if cut > start else end
        spans.append((start, end))
        start = end + 1 if end < len(normal) and _SPACE.match(normal, end) else end
    if len(spans) > MAX_WINDOWS:
        half = MAX_WINDOWS // 2
        spans = spans[:half] + spans[-half:]
    return spans


def read(path: Path) -> dict[str, Any]:
    """A model file, parsed."""
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@functools.cache
def load(path: Path = MODEL_PATH) -> Model:
    """The model file, loaded once; a missing or broken file raises (OSError, ValueError)."""
    try:
        return Model.from_dict(read(path))
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a triage model file ({error!r})") from None


def describe(model: Model) -> Iterable[str]:
    """A few lines about a loaded model, for people."""
    corpus = model.info.get("corpus", {})
    yield f"model version {model.version}, {len(model.packed)} features"
    yield f"corpus sha256 {corpus.get('sha256', '?')} ({corpus.get('rows', '?')} messages)"
