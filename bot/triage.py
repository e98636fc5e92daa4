"""Triage: decide which participant messages the officer must see, and why.

A pure, rule-based classifier. Missing a crisis is the worst failure, a flood of false
alarms the second worst (the officer stops reading), so the rules are transparent data in
`bot/triage_rules/<lang>.toml` that a social worker can read and extend; the format is
explained at the top of every rules file.

Which lexicons are applied to a message in language ``lang``:

- all categories from the participant's own lexicon (``lang``), plus all categories from
  ``nl`` and ``en``, because participants mix languages (an unknown or empty ``lang`` gets
  just ``nl`` and ``en``);
- the ``self_harm`` and ``violence`` rules of every other lexicon as well: a crisis must not
  be missed because the language setting is wrong, and when in doubt about self-harm we flag.

Before matching, the text and every rule are normalised the same way: lower case, accents
stripped (NFKD), weapon and pill emoji mapped to a Dutch word (🔪 → mes, 🔫 → pistool) and
other emoji dropped, digits read as letters inside words that mix both (``d00d`` → dood,
but "14:00", "113" and "06-12345678" stay), apostrophes and invisible characters removed,
punctuation turned into spaces or a clause break ``|``, and repeated letters collapsed (so
"dooood" and "dood" are the same word). The words that matched are mapped back to the
original text, as the person wrote them, for the officer to see.

A match is dropped when a negation word stands just before it in the same clause ("ik heb
gisteren niet gebruikt"; a clause word such as "maar" or "ik" stops a negation's reach), or
when one of the rule's ``unless`` patterns occurs nearby ("ik ga dood van het lachen"). A
category fires when the weights of its matching rules add up to 1; the message gets the
highest severity among the categories that fired.

Speed: lexicons are compiled once per language (functools.cache). For every phrase and
pattern the compiler works out literal "factors" that any match must contain; one trie-shaped
regex finds which factors occur in a message, and only the phrases and patterns owning them
are tried. The whole text is scanned however long it is; on long text (over LONG_TEXT
characters) a pattern is only tried within MAX_SPAN characters of its factors, which is far
longer than any rule in the files matches. At most MAX_HITS_PER_RULE matches per rule are
kept to explain a verdict.

`classify` never raises on any text or language. The rules files are checked by the tests;
a broken one raises `ValueError` on first use rather than silently flagging nothing.
"""

from __future__ import annotations

import functools
import importlib
import re
import tomllib
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEVERITIES: tuple[str, ...] = ("none", "low", "medium", "high", "critical")
CATEGORIES: tuple[str, ...] = (
    "self_harm",
    "violence",
    "danger",
    "relapse",
    "housing",
    "police",
    "crime",
    "debt",
    "health",
    "help",
)
LANGUAGES: tuple[str, ...] = ("nl", "en", "ar", "tr", "pl")
ALWAYS: tuple[str, ...] = ("nl", "en")
CRISIS: frozenset[str] = frozenset({"self_harm", "violence"})

RULES_DIR = Path(__file__).with_name("triage_rules")
NEGATION_WINDOW = 3
UNLESS_WINDOW = 60

_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Verdict:
    """What the officer needs to know about one message."""

    flagged: bool
    severity: str
    categories: tuple[str, ...]
    matches: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form used by `oprit triage` and stored with the message."""
        return {
            "flagged": self.flagged,
            "severity": self.severity,
            "categories": list(self.categories),
            "matches": list(self.matches),
        }


NOT_FLAGGED = Verdict(flagged=False, severity="none", categories=(), matches=())


def severity_rank(severity: str) -> int:
    """Position of `severity` in SEVERITIES, for sorting and comparing."""
    try:
        return _RANK[severity]
    except KeyError:
        raise ValueError(f"unknown severity {severity!r}") from None


# --- normalisation -------------------------------------------------------------------------

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
_WORD = re.compile(r"\w")
_WORD_END = re.compile(r"\W|$")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _fold_letters(text: str) -> str:
    """Lower case without accents; the part of normalisation that regex sources also get."""
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


@dataclass(frozen=True)
class _Normalised:
    """Normalised text, and a lazily built map from its positions back to the original.

    The map is only needed when something matched, so ordinary messages never pay for it.
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


# --- lexicons ------------------------------------------------------------------------------

_MACRO = re.compile(r"\{([a-z_]+)\}")
_RULE_KEYS = frozenset({"severity", "phrases", "patterns", "unless", "weight", "negatable", "note"})
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
_ZERO_WIDTH = frozenset({"AT", "ASSERT", "ASSERT_NOT"})


@dataclass(frozen=True, eq=False)
class _Part:
    """One phrase or pattern of a rule.

    `factors` are strings of which every match contains at least one; the part is only tried
    on a message that contains one of them (None: always tried).
    """

    regex: re.Pattern[str]
    factors: frozenset[str] | None


@dataclass(frozen=True, eq=False)
class _Rule:
    """One rule from a rules file: when one of its parts matches, its category may fire."""

    name: str
    category: str
    severity: str
    weight: float
    parts: tuple[_Part, ...]
    unless: tuple[re.Pattern[str], ...]
    negatable: bool


_Candidate = tuple[_Rule, _Part]


@dataclass(frozen=True)
class _RuleSet:
    """Everything applied to the messages of one language, with a finder for the factors."""

    negations: frozenset[str]
    clause_words: frozenset[str]
    always: tuple[_Candidate, ...]
    by_factor: dict[str, tuple[_Candidate, ...]]
    finder: re.Pattern[str]
    prefixes: dict[str, tuple[str, ...]]


def _fold_pattern(source: str) -> str:
    """Fold a regex source like a message (letters only; escapes and syntax untouched)."""
    out: list[str] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\":
            out.append(source[index : index + 2])
            index += 2
            continue
        if char in _APOSTROPHES:
            index += 1
            continue
        folded = _fold_letters(char) if char.isalpha() else char
        if not (folded.isalpha() and out and out[-1] == folded):
            out.append(folded)
        index += 1
    return "".join(out)


def _phrase_regex(phrase: str) -> str:
    """A phrase as a regex on whole words; a word ending in * matches any ending."""
    words: list[str] = []
    open_end = False
    for word in phrase.split():
        open_end = word.endswith("*")
        normal = normalise(word.rstrip("*")).replace("|", " ").strip()
        if normal:
            words.append(re.escape(normal).replace(r"\ ", " ") + (r"\w*" if open_end else ""))
    if not words:
        raise ValueError(f"empty phrase {phrase!r}")
    return r"(?<!\w)" + " ".join(words) + ("" if open_end else r"(?!\w)")


def _expand(source: str, macros: dict[str, str], where: str) -> str:
    """Replace {name} by the macro of that name, as a non-capturing group."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in macros:
            raise ValueError(f"{where}: unknown macro {{{name}}}")
        return f"(?:{macros[name]})"

    for _ in range(5):
        expanded = _MACRO.sub(replace, source)
        if expanded == source:
            return source
        source = expanded
    raise ValueError(f"{where}: macros nested too deep")


def _compile(source: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as error:
        raise ValueError(f"{where}: bad pattern: {error}") from None


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}: expected a list of strings")
    return list(value)


def _factors(items: Any) -> tuple[frozenset[str] | None, str | None]:
    """Required substrings of a parsed regex sequence, and its text if it is fixed text.

    Works on the stdlib's parse tree: literal runs, groups, alternatives (every branch must
    give a factor) and repeats of at least one. Anything else just ends a literal run.
    """
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    fixed = True

    def end_run() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, value in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(value))
            continue
        if name in _ZERO_WIDTH:
            continue
        if name in ("SUBPATTERN", "ATOMIC_GROUP"):
            inner, literal = _factors(value[3] if name == "SUBPATTERN" else value)
            if literal is not None:
                run.append(literal)
                continue
            fixed = False
            end_run()
            if inner:
                candidates.append(inner)
            continue
        fixed = False
        end_run()
        if name == "BRANCH":
            union: set[str] = set()
            for branch in value[1]:
                inner, literal = _factors(branch)
                found = frozenset({literal}) if literal else inner
                if not found:
                    break
                union |= found
            else:
                candidates.append(frozenset(union))
        elif name in _REPEATS and value[0] >= 1:
            inner, literal = _factors(value[2])
            found = frozenset({literal}) if literal else inner
            if found:
                candidates.append(found)
    literal = "".join(run) if fixed else None
    end_run()
    best = max(candidates, key=lambda s: (min(map(len, s)), -len(s)), default=None)
    return best, literal


def _required(regex: str) -> frozenset[str] | None:
    """Factors of a compiled rule, or None when there are no useful ones."""
    try:
        parser: Any = importlib.import_module("re._parser")
        found, _ = _factors(parser.parse(regex))
    except Exception:  # the parser is private: if it changes, rules are simply always tried
        return None
    if not found or min(map(len, found)) < 2:
        return None
    return found


_Trie = dict[str, "_Trie"]


def _trie_regex(words: set[str]) -> str:
    """One regex matching any of `words`, shaped as a trie so it stays fast for many words."""
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root) if words else "(?!)"


@dataclass(frozen=True)
class _Lexicon:
    """One rules file, compiled."""

    negations: frozenset[str]
    clause_words: frozenset[str]
    rules: tuple[_Rule, ...]


@functools.cache
def _load(lang: str) -> _Lexicon:
    """Negation words, clause words and rules of one rules file."""
    path = RULES_DIR / f"{lang}.toml"
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    settings = data.get("settings", {})
    words = _strings(settings.get("negations"), f"{lang}.toml negations")
    negations = frozenset(normalise(word).strip() for word in words)
    stops = _strings(settings.get("clause_words"), f"{lang}.toml clause_words")
    clause_words = frozenset(normalise(word).strip() for word in stops)
    macros = {name: _fold_pattern(str(value)) for name, value in data.get("macros", {}).items()}
    negation_group = "|".join(sorted(re.escape(word) for word in negations)) or "(?!)"
    macros.setdefault("neg", negation_group)
    macros.setdefault("gap", rf"(?:(?!(?:{negation_group})(?!\w))\w+ ){{0,3}}")
    rules: list[_Rule] = []
    for category, entries in data.items():
        if category in ("settings", "macros"):
            continue
        if category not in CATEGORIES:
            raise ValueError(f"{lang}.toml: unknown category {category!r}")
        for number, entry in enumerate(entries, start=1):
            where = f"{lang}.toml {category} #{number}"
            rules.append(_rule(entry, f"{lang}_{category}_{number}", category, macros, where))
    return _Lexicon(negations, clause_words, tuple(rules))


def _rule(
    entry: dict[str, Any], name: str, category: str, macros: dict[str, str], where: str
) -> _Rule:
    """Compile one [[category]] block."""
    unknown = set(entry) - _RULE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    severity = entry.get("severity")
    if severity not in SEVERITIES[1:]:
        raise ValueError(f"{where}: severity must be low, medium, high or critical")
    alternatives = [_phrase_regex(phrase) for phrase in _strings(entry.get("phrases"), where)]
    alternatives += [
        _fold_pattern(_expand(pattern, macros, where))
        for pattern in _strings(entry.get("patterns"), where)
    ]
    if not alternatives:
        raise ValueError(f"{where}: a rule needs phrases or patterns")
    unless = tuple(
        _compile(_fold_pattern(_expand(pattern, macros, where)), where)
        for pattern in _strings(entry.get("unless"), where)
    )
    return _Rule(
        name=name,
        category=category,
        severity=str(severity),
        weight=float(entry.get("weight", 1.0)),
        parts=tuple(_Part(_compile(source, where), _required(source)) for source in alternatives),
        unless=unless,
        negatable=bool(entry.get("negatable", True)),
    )


def _language(lang: object) -> str:
    """The rules language for a participant's language setting ("nl-BE" → nl, junk → "")."""
    if not isinstance(lang, str):
        return ""
    code = lang.strip().lower()[:2]
    return code if code in LANGUAGES else ""


def prepare() -> None:
    """Compile the rules of every language now: the first message in a language took a
    third of a second to compile its rules, and while it did the bot did nothing else."""
    for lang in ("", *LANGUAGES):
        _ruleset(lang)


@functools.cache
def _ruleset(lang: str) -> _RuleSet:
    """The rules that apply to messages in `lang` (see the module docstring)."""
    full = {lang, *ALWAYS} - {""}
    negations: set[str] = set()
    clause_words: set[str] = set()
    always: list[_Candidate] = []
    by_factor: dict[str, list[_Candidate]] = {}
    for code in LANGUAGES:
        lexicon = _load(code)
        negations |= lexicon.negations
        clause_words |= lexicon.clause_words
        for rule in lexicon.rules:
            if code not in full and rule.category not in CRISIS:
                continue
            for part in rule.parts:
                if part.factors is None:
                    always.append((rule, part))
                for factor in part.factors or ():
                    by_factor.setdefault(factor, []).append((rule, part))
    factors = set(by_factor)
    prefixes = {
        factor: tuple(factor[:end] for end in range(1, len(factor) + 1) if factor[:end] in factors)
        for factor in factors
    }
    return _RuleSet(
        negations=frozenset(negations),
        clause_words=frozenset(clause_words),
        always=tuple(always),
        by_factor={factor: tuple(parts) for factor, parts in by_factor.items()},
        finder=re.compile(f"(?=({_trie_regex(factors)}))"),
        prefixes=prefixes,
    )


# --- classification ------------------------------------------------------------------------

MAX_SPAN = 400
LONG_TEXT = 4 * MAX_SPAN
MAX_HITS_PER_RULE = 10


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


def _accepted(rule: _Rule, text: str, start: int, end: int, ruleset: _RuleSet) -> bool:
    """Does this match count, given negation and the rule's exceptions?"""
    if rule.negatable and _negated(text, start, end, ruleset):
        return False
    window = text[max(0, start - UNLESS_WINDOW) : end + UNLESS_WINDOW]
    return not any(pattern.search(window) for pattern in rule.unless)


@dataclass
class _Scan:
    """One message being classified: its text, the factors in it, and (lazily) where."""

    text: str
    factors: set[str]
    positions: dict[str, list[int]] = field(default_factory=dict)

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
                if _accepted(rule, text, match.start(), match.end(), ruleset):
                    hits.append(match.span())
                    if len(hits) >= MAX_HITS_PER_RULE:
                        return hits
                    position = max(match.end(), match.start() + 1)
                else:
                    position = match.start() + 1
    return hits


def _candidates(ruleset: _RuleSet, text: str) -> tuple[dict[_Rule, list[_Part]], _Scan]:
    """The rule parts worth trying on `text`, by rule, and the factors found in it."""
    found = {
        factor
        for longest in set(ruleset.finder.findall(text))
        for factor in ruleset.prefixes[longest]
    }
    parts = dict.fromkeys(ruleset.always)
    for factor in found:
        parts.update(dict.fromkeys(ruleset.by_factor[factor]))
    by_rule: dict[_Rule, list[_Part]] = {}
    for rule, part in parts:
        by_rule.setdefault(rule, []).append(part)
    return by_rule, _Scan(text, found)


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


def _matches(original: str, normal: _Normalised, spans: list[tuple[int, int]]) -> tuple[str, ...]:
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


def classify(text: str, lang: str) -> Verdict:
    """Classify one participant message; never raises on any text or language."""
    if not isinstance(text, str) or not text:
        return NOT_FLAGGED
    ruleset = _ruleset(_language(lang))
    normal = _normalise(text)
    candidates, scan = _candidates(ruleset, normal.text)
    weights: dict[str, float] = {}
    severities: dict[str, str] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    for rule, parts in candidates.items():
        hits = _hits(rule, parts, scan, ruleset)
        if not hits:
            continue
        category = rule.category
        weights[category] = weights.get(category, 0.0) + rule.weight
        if severity_rank(rule.severity) > severity_rank(severities.get(category, "none")):
            severities[category] = rule.severity
        spans.setdefault(category, []).extend(hits)
    fired = [category for category, weight in weights.items() if weight >= 1.0]
    if not fired:
        return NOT_FLAGGED
    fired.sort(key=lambda category: (-severity_rank(severities[category]), category))
    matched = [span for category in fired for span in spans[category]]
    return Verdict(
        flagged=True,
        severity=severities[fired[0]],
        categories=tuple(fired),
        matches=_matches(text, normal, matched),
    )
