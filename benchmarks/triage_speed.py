"""How fast is triage? Classifies 10,000 typical lines and prints lines per second.

Run by hand: `python -m benchmarks.triage_speed [--lines N]`. The lines are the labelled
messages of tests/triage/cases.jsonl, repeated; one 5 MB message is timed as well, because
the whole text is scanned however long it is. Timing lives here, never in the tests.
"""

from __future__ import annotations

import argparse
import json
import time
from itertools import cycle, islice
from pathlib import Path

from bot.triage import classify

CASES = Path(__file__).resolve().parent.parent / "tests" / "triage" / "cases.jsonl"


def typical_lines(count: int) -> list[tuple[str, str]]:
    """`count` (text, language) pairs taken round-robin from the labelled cases."""
    rows = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]
    return list(islice(cycle((row["text"], row["lang"]) for row in rows), count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=10_000, help="how many lines to classify")
    args = parser.parse_args()
    lines = typical_lines(args.lines)

    started = time.perf_counter()
    classify("warm-up: the rules are compiled on first use", "nl")
    print(f"compile rules: {time.perf_counter() - started:.2f} s")

    started = time.perf_counter()
    flagged = sum(classify(text, lang).flagged for text, lang in lines)
    elapsed = time.perf_counter() - started
    print(f"{len(lines)} lines in {elapsed:.2f} s: {len(lines) / elapsed:,.0f} lines/second")
    print(f"flagged: {flagged}")

    filler = "vandaag was een gewone dag en alles gaat goed met me. "
    huge = filler * (5_000_000 // len(filler)) + "ik wil er een eind aan maken"
    started = time.perf_counter()
    verdict = classify(huge, "nl")
    elapsed = time.perf_counter() - started
    print(f"one {len(huge) / 1e6:.1f} MB message in {elapsed:.2f} s: {verdict.severity}")


if __name__ == "__main__":
    main()
