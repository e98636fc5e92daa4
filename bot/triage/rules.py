"""The lexicons: loading and compiling `rules/<lang>.toml`, and which rules apply to a language.

The rules are transparent data that a social worker can read and extend; the format is
explained at the top of every rules file. Which lexicons are applied to a message in
language ``lang``:

- all categories from the participant's own lexicon (``lang``), plus all categories from
  ``nl`` and ``en``, because participants mix languages (an unknown or empty ``lang`` gets
  just ``nl`` and ``en``);
- the ``self_harm`` and ``violence`` rules of every other lexicon as well: a crisis must not
  be missed because the language setting is wrong, and when in doubt about self-harm we flag.

Speed: lexicons are compiled once per language (functools.cache). For every phrase and
pattern the compiler works out literal "factors" that any match must contain (read from the
regex with Python's private `re._parser`; if that changes, every rule is simply tried); one
trie-shaped regex finds which factors occur in a message, and only the phrases and patterns
owning them are tried. A broken rules file raises `ValueError` on first use rather than
silently flagging nothing.
"""

from __future__ import annotations

import functools
import importlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.triage import typos
from bot.triage.normalise import (
    _APOSTROPHES,
    _LEET,
    _REPEATED_LETTER,
    _fold_letters,
    normalise,
)

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

RULES_DIR = Path(__file__).with_name("rules")

_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def severity_rank(severity: str) -> int:
    """Position of `severity` in SEVERITIES, for sorting and comparing."""
    try:
        return _RANK[severity]
    except KeyError:
        raise ValueError(f"unknown severity {severity!r}") from None


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
    # a problem told as the past, with the person doing well now (see `bot.triage.match`)
    past: re.Pattern[str]
    recovered: re.Pattern[str]
    again: re.Pattern[str]
    always: tuple[_Candidate, ...]
    by_factor: dict[str, tuple[_Candidate, ...]]
    finder: re.Pattern[str]
    prefixes: dict[str, tuple[str, ...]]
    # what the finder returns (the longest factor at a place) -> the candidates of all the
    # factors that start there, ready to merge into the candidates of a message
    by_longest: dict[str, dict[_Candidate, None]]
    typos: typos.Typos


# [settings] lists that say a problem is told as over (see `bot.triage.match`)
_CONTEXT_KEYS = ("past", "recovered", "again")
# an escape, or a run of letters and digits written in a regex source
_SOURCE_RUN = re.compile(r"\\.|[^\W_]+")
# a letter next to a digit: only then can a source hold an arabizi word
_LETTER_AND_DIGIT = re.compile(r"[^\W\d_]\d|\d[^\W\d_]")
# an escape in a regex source (kept as it is), as a group so that split keeps it
_ESCAPE = re.compile(r"(\\.)")
_NO_APOSTROPHES = str.maketrans("", "", "".join(_APOSTROPHES))


def _digits_as_letters(source: str) -> str:
    """Digits inside words that mix letters and digits read as letters, as in a message
    ("l7bs" -> "ltbs", "3la" -> "ela"), so arabizi words in a pattern match the normalised
    text; escapes, quantifiers ("{0,3}") and numbers ("113") are left alone."""
    if not _LETTER_AND_DIGIT.search(source):
        return source

    def fold(run: re.Match[str]) -> str:
        word = run.group()
        if word.startswith("\\") or word.isdigit() or not any(c.isdigit() for c in word):
            return word
        return word.translate(_LEET)

    return _SOURCE_RUN.sub(fold, source)


def _fold_pattern(source: str) -> str:
    """Fold a regex source like a message (letters and digits used as letters, accents and
    apostrophes dropped, repeated letters once; escapes untouched)."""
    parts = _ESCAPE.split(_digits_as_letters(source))
    for index in range(0, len(parts), 2):
        letters = _fold_letters(parts[index].translate(_NO_APOSTROPHES))
        parts[index] = _REPEATED_LETTER.sub(r"\1", letters)
    return "".join(parts)


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
    # [settings] past, recovered and again: folded regex sources
    past: tuple[str, ...]
    recovered: tuple[str, ...]
    again: tuple[str, ...]
    rules: tuple[_Rule, ...]
    # for typo tolerance: every word written in the file (never corrected), the long words of
    # its crisis rules, and its [spellings] table (chat spelling -> standard spelling)
    words: frozenset[str]
    crisis_words: frozenset[str]
    spellings: dict[str, str]


_LETTERS = re.compile(r"[^\W\d_]+")
# a whole word inside a pattern: not glued to an escape, and not made optional or repeated
_PATTERN_WORD = re.compile(r"(?<![^\W\d_])[^\W\d_]+(?![^\W\d_]|[?*+{])")


def _pattern_words(source: str) -> set[str]:
    """The whole words written in a (folded) regex source."""
    return set(_PATTERN_WORD.findall(_ESCAPE.sub(" ", source)))


def _all_strings(value: Any) -> list[str]:
    """Every string in a parsed rules file, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value, *(text for item in value.values() for text in _all_strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _all_strings(item)]
    return []


def _crisis_words(entries: Any, lang: str) -> set[str]:
    """Long words of the phrases and patterns of a file's self_harm and violence rules."""
    found: set[str] = set()
    for entry in entries:
        where = f"{lang}.toml"
        for phrase in _strings(entry.get("phrases"), where):
            for word in phrase.split():
                found.update(normalise(word.rstrip("*")).replace("|", " ").split())
        for pattern in _strings(entry.get("patterns"), where):
            found |= _pattern_words(_fold_pattern(pattern))
    return {word for word in found if len(word) >= typos.MIN_LENGTH and word.isalpha()}


def _spellings(table: Any, lang: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ValueError(f"{lang}.toml: [spellings] maps words to words")
    spellings: dict[str, str] = {}
    for typed, standard in table.items():
        key, value = normalise(typed).strip(), normalise(standard).strip()
        if not key or " " in key or "|" in key or not value or "|" in value:
            raise ValueError(f"{lang}.toml: bad spelling {typed!r} = {standard!r}")
        if key != value:  # "kil" = "kill" is the same word once double letters are single
            spellings[key] = value
    return spellings


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
    context = {
        key: tuple(
            _fold_pattern(_expand(pattern, macros, f"{lang}.toml {key}"))
            for pattern in _strings(settings.get(key), f"{lang}.toml {key}")
        )
        for key in _CONTEXT_KEYS
    }
    for key, sources in context.items():
        for source in sources:
            _compile(source, f"{lang}.toml {key}")
    rules: list[_Rule] = []
    crisis_words: set[str] = set()
    for category, entries in data.items():
        if category in ("settings", "macros", "spellings"):
            continue
        if category not in CATEGORIES:
            raise ValueError(f"{lang}.toml: unknown category {category!r}")
        for number, entry in enumerate(entries, start=1):
            where = f"{lang}.toml {category} #{number}"
            rules.append(_rule(entry, f"{lang}_{category}_{number}", category, macros, where))
        if category in CRISIS:
            crisis_words |= _crisis_words(entries, lang)
    spellings = _spellings(data.get("spellings", {}), lang)
    not_typos = _strings(settings.get("not_typos"), f"{lang}.toml not_typos")
    lexicon_words = {
        word
        for text in _all_strings(data)
        for word in _LETTERS.findall(_ESCAPE.sub(" ", _fold_pattern(text)))
    }
    lexicon_words.update(word for text in not_typos for word in normalise(text).split())
    return _Lexicon(
        negations=negations,
        clause_words=clause_words,
        past=context["past"],
        recovered=context["recovered"],
        again=context["again"],
        rules=tuple(rules),
        words=frozenset(lexicon_words),
        crisis_words=frozenset(crisis_words),
        spellings=spellings,
    )


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
    known: set[str] = set()
    vocabulary: set[str] = set()
    spellings: dict[str, str] = {}
    context: dict[str, list[str]] = {key: [] for key in _CONTEXT_KEYS}
    for code in LANGUAGES:
        lexicon = _load(code)
        negations |= lexicon.negations
        clause_words |= lexicon.clause_words
        for key in _CONTEXT_KEYS:
            context[key] += getattr(lexicon, key)
        known |= lexicon.words
        vocabulary |= lexicon.crisis_words
        if code in full:
            spellings.update(lexicon.spellings)
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
    past, recovered, again = (
        re.compile("|".join(f"(?:{source})" for source in context[key]) or "(?!)")
        for key in _CONTEXT_KEYS
    )
    return _RuleSet(
        negations=frozenset(negations),
        clause_words=frozenset(clause_words),
        past=past,
        recovered=recovered,
        again=again,
        always=tuple(always),
        by_factor={factor: tuple(parts) for factor, parts in by_factor.items()},
        finder=re.compile(f"(?=({_trie_regex(factors)}))"),
        prefixes=prefixes,
        by_longest={
            longest: {candidate: None for factor in shorter for candidate in by_factor[factor]}
            for longest, shorter in prefixes.items()
        },
        typos=typos.build(vocabulary, known, spellings),
    )
