"""Which of our languages a short chat message is written in, for the label under a quoted
message ("written in Arabic"): a participant whose profile says Arabic may well write in
Dutch. A guess from the script and from common words; None when unsure (the label is then
left out rather than wrong)."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Short, frequent words that are (almost) only used in one of the languages.
_COMMON = {
    "nl": _words(
        "ik je jij het een niet met van dat maar wat ben heb mijn mn zijn hij zij ook nog "
        "wel naar voor bij moeder thuis morgen vandaag kan wil moet gaat gaan geen echt"
    ),
    "en": _words(
        "i you the a is not with of that but what am have my his she also still to for at "
        "mother home tomorrow today can want must going go no really and it im dont"
    ),
    "tr": _words(
        "ben sen bir ve bu çok değil ne var yok evet hayır annem ev yarın bugün istiyorum "
        "gidiyorum ama için gibi daha şimdi nasıl iyi kötü"
    ),
    "pl": _words(
        "ja ty jest nie się że to na w z do mam jestem moja mój mama dom jutro dzisiaj "
        "chcę muszę ale jak co już tak bardzo dobrze"
    ),
}
_LETTERS = {"tr": set("ğşıİ"), "pl": set("ąćęłńśźż")}


def guess(text: str | None) -> str | None:
    """The language a text is most likely written in (one of nl, en, ar, tr, pl), or None."""
    if not text:
        return None
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    arabic = sum(1 for c in letters if "ARABIC" in unicodedata.name(c, ""))
    if arabic * 2 >= len(letters):
        return "ar"
    words = [w.casefold() for w in _WORD.findall(text)]
    scores = {lang: sum(w in common for w in words) for lang, common in _COMMON.items()}
    for lang, special in _LETTERS.items():
        scores[lang] += 2 * sum(c in special for c in text)
    best = max(scores.values())
    winners = [lang for lang, score in scores.items() if score == best]
    return winners[0] if best > 0 and len(winners) == 1 else None
