"""Finding the rules' matches in a message: candidates, negation and `unless`, scoring.

A match is dropped when a negation word stands just before it in the same clause ("ik heb
gisteren niet gebruikt"; a clause word such as "maar" or "ik" stops a negation's reach),
when it is told as the past and the person says it is over ("vroeger deed ik mezelf pijn,
nu niet meer"), or when one of the rule's ``unless`` patterns occurs nearby ("ik ga dood van
het lachen"). A category fires when the weights of its matching rules add up to 1; it gets
the highest severity among its matching rules. The words that matched are mapped back to the
original text, as the person wrote them, for the officer to see.

The whole text is scanned however long it is; on long text (over LONG_TEXT characters) a
pattern is only tried within MAX_SPAN characters of its factors, which is far longer than
any rule in the files matches. At most MAX_HITS_PER_RULE matches per rule are kept to
explain a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.triage import typos
from bot.triage.normalise import _normalise, _Normalised
from bot.triage.rules import _language, _Part, _Rule, _RuleSet, _ruleset, severity_rank

NEGATION_WINDOW = 3
UNLESS_WINDOW = 60
# how far before a match a `past` marker may stand ("toen ik vast zat dacht ik vaak aan ...")
PAST_WINDOW = 80
MAX_SPAN = 400
LONG_TEXT = 4 * MAX_SPAN
MAX_HITS_PER_RULE = 10

_WORD = re.compile(r"\w")
_WORD_END = re.compile(r"\W|$")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _negated(text: str, start: int, end: int, ruleset: _RuleSet) -> bool:
    """Is there a negation word in the few words before the match, in the same clause?

    A negation does not reach past a clause word ("geen idee maar ik wil dood"), nor onto a
    match that starts with one ("nobody knows i want to die").
    """
    first = text[start:end].split(maxsplit=1)
    if first and first[0] in ruleset.clause_words:
        return False
    before = text[max(0, start - 80) : start]
    clause = before[before.rfind("|") + 1 :]
    for word in reversed(clause.split()[-NEGATION_WINDOW:]):
        if word in ruleset.clause_words:
            return False
        if word in ruleset.negations:
            return True
    return False


def _told_as_recovered(scan: _Scan, start: int, end: int, ruleset: _RuleSet) -> bool:
    """Is the match a problem of the past that the person says is over?

    A `past` marker stands shortly before the match or in it ("vroeger", "toen ik vast
    zat", "used to"), a `recovered` marker after it ("nu niet meer", "now i got a job"),
    and no `again` marker after that ("... maar sinds gisteren weer"). What is said after
    the recovered marker is judged on its own: only matches before it are dropped.
    """
    if scan.recovered is None:
        # once per message: most messages say nothing is over, and then no match needs more
        scan.recovered = [found.span() for found in ruleset.recovered.finditer(scan.text)]
    later = [span for span in scan.recovered if span[0] >= end]
    if not later or not ruleset.past.search(scan.text, max(0, start - PAST_WINDOW), end):
        return False
    return not ruleset.again.search(scan.text, later[0][1])


def _accepted(rule: _Rule, scan: _Scan, start: int, end: int, ruleset: _RuleSet) -> bool:
    """Does this match count, given negation, the past and the rule's exceptions?"""
    text = scan.text
    if rule.negatable and _negated(text, start, end, ruleset):
        return False
    if _told_as_recovered(scan, start, end, ruleset):
        return False
    window = text[max(0, start - UNLESS_WINDOW) : end + UNLESS_WINDOW]
    return not any(pattern.search(window) for pattern in rule.unless)


@dataclass
class _Scan:
    """One message being classified: its text, the factors in it (only needed, and only
    filled, on long text: see `_ranges`), and (lazily) where."""

    text: str
    factors: set[str]
    positions: dict[str, list[int]] = field(default_factory=dict)
    # where the text says a problem is over (`recovered` markers), found on first need
    recovered: list[tuple[int, int]] | None = None

    def where(self, factor: str) -> list[int]:
        """Start positions of `factor`; only needed to cut long text into windows."""
        if factor not in self.positions:
            finder = re.compile(f"(?={re.escape(factor)})")
            self.positions[factor] = [found.start() for found in finder.finditer(self.text)]
        return self.positions[factor]


def _ranges(part: _Part, scan: _Scan) -> list[tuple[int, int]]:
    """Where to look for `part`: the whole text, or on long text only around its factors."""
    text = scan.text
    if part.factors is None or len(text) <= LONG_TEXT:
        return [(0, len(text))]
    present = part.factors & scan.factors
    if sum(text.count(factor) for factor in present) * 2 * MAX_SPAN >= len(text):
        return [(0, len(text))]
    points = sorted(point for factor in present for point in scan.where(factor))
    ranges: list[tuple[int, int]] = []
    for point in points:
        start, end = max(0, point - MAX_SPAN), point + MAX_SPAN
        if ranges and start <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return [(start, _word_end(text, end)) for start, end in ranges]


def _word_end(text: str, index: int) -> int:
    """`index`, moved on to the end of the word it falls in."""
    found = _WORD_END.search(text, min(index, len(text)))
    return found.start() if found else len(text)


def _hits(rule: _Rule, parts: list[_Part], scan: _Scan, ruleset: _RuleSet) -> list[tuple[int, int]]:
    """Accepted matches of one rule (the first few are enough to explain a verdict)."""
    hits: list[tuple[int, int]] = []
    text = scan.text
    for part in parts:
        for start, end in _ranges(part, scan):
            position = start
            while (match := part.regex.search(text, position, end)) is not None:
                if _accepted(rule, scan, match.start(), match.end(), ruleset):
                    hits.append(match.span())
                    if len(hits) >= MAX_HITS_PER_RULE:
                        return hits
                    position = max(match.end(), match.start() + 1)
                else:
                    position = match.start() + 1
    return hits


def _candidates(ruleset: _RuleSet, text: str) -> tuple[dict[_Rule, list[_Part]], _Scan]:
    """The rule parts worth trying on `text`, by rule, and (on long text) the factors in it."""
    longest = set(ruleset.finder.findall(text))
    parts = dict.fromkeys(ruleset.always)
    for found in longest:
        parts.update(ruleset.by_longest[found])
    by_rule: dict[_Rule, list[_Part]] = {}
    for rule, part in parts:
        by_rule.setdefault(rule, []).append(part)
    factors = set()
    if len(text) > LONG_TEXT:
        factors = {factor for found in longest for factor in ruleset.prefixes[found]}
    return by_rule, _Scan(text, factors)


def _word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a match to whole words."""
    while start > 0 and _WORD.match(text, start - 1):
        start -= 1
    while end < len(text) and _WORD.match(text, end):
        end += 1
    while start < end and text[start] in " |":
        start += 1
    while end > start and text[end - 1] in " |":
        end -= 1
    return start, end


def matches(
    original: str, normal: _Normalised, spans: Iterable[tuple[int, int]]
) -> tuple[str, ...]:
    """The original words behind the matched spans, merged where they overlap."""
    mapped = sorted(
        normal.span(start, end)
        for start, end in (_word_span(normal.text, s, e) for s, e in spans)
        if end > start
    )
    merged: list[list[int]] = []
    for start, end in mapped:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    words: list[str] = []
    for start, end in merged:
        word = _SURROGATE.sub("\ufffd", original[start:end].strip())
        if word and word not in words:
            words.append(word)
    return tuple(words)


@dataclass(frozen=True)
class RuleResult:
    """What the rules found in one message: the categories that fired (most severe first,
    then by name), the severity of each, the matched spans of the normalised text (turn
    them into the person's own words with `matches`), and the normalised text."""

    categories: tuple[str, ...]
    severities: dict[str, str]
    spans: tuple[tuple[int, int], ...]
    normal: _Normalised | None


NOTHING = RuleResult(categories=(), severities={}, spans=(), normal=None)


def _rule_hits(text: str, ruleset: _RuleSet) -> dict[_Rule, list[tuple[int, int]]]:
    """Accepted matches of every rule that matched `text` (a normalised text)."""
    candidates, scan = _candidates(ruleset, text)
    found: dict[_Rule, list[tuple[int, int]]] = {}
    for rule, parts in candidates.items():
        hits = _hits(rule, parts, scan, ruleset)
        if hits:
            found[rule] = hits
    return found


def find(text: str, lang: str) -> RuleResult:
    """Apply the rules for `lang` to one message; never raises on any text or language.

    The rules run on the normalised message and, when typo correction changed anything, on
    the corrected copy too (see `bot.triage.typos`); a rule counts once either way.
    """
    if not isinstance(text, str) or not text:
        return NOTHING
    ruleset = _ruleset(_language(lang))
    normal = _normalise(text)
    found = _rule_hits(normal.text, ruleset)
    corrected = typos.correct(normal.text, ruleset.typos)
    if corrected is not None:
        for rule, hits in _rule_hits(corrected.text, ruleset).items():
            mapped = [corrected.span(start, end) for start, end in hits]
            found.setdefault(rule, []).extend(mapped)
    weights: dict[str, float] = {}
    severities: dict[str, str] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    for rule, hits in found.items():
        category = rule.category
        weights[category] = weights.get(category, 0.0) + rule.weight
        if severity_rank(rule.severity) > severity_rank(severities.get(category, "none")):
            severities[category] = rule.severity
        spans.setdefault(category, []).extend(hits)
    fired = [category for category, weight in weights.items() if weight >= 1.0]
    if not fired:
        return RuleResult(categories=(), severities={}, spans=(), normal=normal)
    fired.sort(key=lambda category: (-severity_rank(severities[category]), category))
    return RuleResult(
        categories=tuple(fired),
        severities={category: severities[category] for category in fired},
        spans=tuple(span for category in fired for span in spans[category]),
        normal=normal,
    )
