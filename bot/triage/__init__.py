"""Triage: decide which participant messages the officer must see, and why.

Missing a crisis is the worst failure, a flood of false alarms the second worst (the officer
stops reading). Two detectors look at every message:

- rules that are transparent data in `bot/triage/rules/<lang>.toml`, which a social worker
  can read and extend (the format is explained at the top of every rules file), tolerant
  of typos in the crisis vocabulary;
- a learned model (`model.json`, built by `python -m bot.triage.train` from the labelled
  corpus in tests/triage/corpus/) that generalises across wording, spelling and language
  mixing, scored in pure Python.

A category is flagged when the rules fire or the model's probability reaches that
category's threshold; the severity is the rules' where they fire, otherwise it comes from
the model's probability. When the model decides, `matches` holds the words of the message
that weighed most, so the officer always sees why. `ask` marks a weak self-harm signal
below the flag threshold: the bot asks the participant a caring direct question.

Modules: `normalise` (the text as the rules and the model see it), `rules` (loading and
compiling the lexicons), `typos` (typo tolerance), `match` (the rules' matches, negation,
`unless` exceptions, scoring), `features` and `model` (the learned detector), `train`
(building model.json; needs scikit-learn).

`classify` never raises on any text or language. The rules files and the model file are
checked by the tests; a broken one raises `ValueError` on first use rather than silently
flagging nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.triage import model as _model
from bot.triage.match import find, matches
from bot.triage.normalise import normalise
from bot.triage.rules import (
    ALWAYS,
    CATEGORIES,
    CRISIS,
    LANGUAGES,
    RULES_DIR,
    SEVERITIES,
    severity_rank,
)
from bot.triage.rules import prepare as _prepare_rules

__all__ = [
    "ALWAYS",
    "ASK",
    "CATEGORIES",
    "CRISIS",
    "LANGUAGES",
    "NOT_FLAGGED",
    "RULES_DIR",
    "SEVERITIES",
    "Verdict",
    "classify",
    "normalise",
    "prepare",
    "severity_rank",
]


@dataclass(frozen=True)
class Verdict:
    """What the officer needs to know about one message.

    `ask`: self-harm is suspected but below the flag threshold (hopelessness, ambiguous
    wording); the bot should ask the participant a caring, direct question. It is not part
    of `to_dict`.
    """

    flagged: bool
    severity: str
    categories: tuple[str, ...]
    matches: tuple[str, ...]
    ask: bool = False

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form used by `oprit triage` and stored with the message."""
        return {
            "flagged": self.flagged,
            "severity": self.severity,
            "categories": list(self.categories),
            "matches": list(self.matches),
        }


NOT_FLAGGED = Verdict(flagged=False, severity="none", categories=(), matches=())
ASK = Verdict(flagged=False, severity="none", categories=(), matches=(), ask=True)


def prepare() -> None:
    """Compile the rules of every language and load the model now: the first message in a
    language took a third of a second to compile its rules, and while it did the bot did
    nothing else."""
    _prepare_rules()
    _model.load()


def classify(text: str, lang: str) -> Verdict:
    """Classify one participant message; never raises on any text or language."""
    found = find(text, lang)
    normal = found.normal
    if normal is None:
        return NOT_FLAGGED
    model = _model.load()
    decision = model.decide(found.severities, model.probabilities(normal.text))
    if not decision.severities:
        return ASK if decision.ask else NOT_FLAGGED
    categories = sorted(
        decision.severities,
        key=lambda category: (-severity_rank(decision.severities[category]), category),
    )
    spans = list(found.spans)
    for category in categories:
        if category in decision.by_model:
            spans.extend(model.explain(normal.text, category))
    return Verdict(
        flagged=True,
        severity=decision.severities[categories[0]],
        categories=tuple(categories),
        matches=matches(text, normal, spans),
        ask=decision.ask,
    )
