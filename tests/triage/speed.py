"""How fast is triage (rules + model)? Run by hand: `python -m tests.triage.speed [--lines N]`.

Measures, in this process unless said otherwise:

- start-up: a fresh interpreter that imports bot.triage and classifies one message (the
  rules of that language are compiled and the model file is loaded on the way);
- throughput of the `oprit triage` loop (JSON line in, `classify`, JSON line out) over N
  lines taken from the labelled corpus (half of it flagged, so the model's explanation is
  often computed) and over N everyday lines (what most real traffic looks like);
- throughput over fresh wording, never trained on, one pass each (more of its words are new
  to the scorer): the blind sets' messages (crisis-heavy and longer) and their weeks;
- latency per message: median, p99 and the slowest, over the same lines;
- one 5 MB message with a crisis at its end.

No assertions: the tests check correctness, this prints numbers for the README.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus")
BLIND = Path(__file__).with_name("blind")


def corpus_lines(everyday: bool) -> list[dict[str, str]]:
    lines = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if not everyday or (row["family"].startswith("everyday") and not row["flagged"]):
                lines.append({"text": row["text"], "lang": row["lang"]})
    return lines


def blind_lines(weeks: bool) -> list[dict[str, str]]:
    """The blind sets' messages, or their everyday weeks' (see test_blind.py)."""
    pattern = "everyday-week*.jsonl" if weeks else "blind-*.jsonl"
    return [
        {"text": row["text"], "lang": row["lang"]}
        for path in sorted(BLIND.glob(pattern))
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    ]


def start_up() -> float:
    code = (
        "import time; started = time.perf_counter()\n"
        "from bot import triage\n"
        "triage.classify('ik wil er een eind aan maken', 'nl')\n"
        "print(time.perf_counter() - started)\n"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    total = time.perf_counter() - started
    print(
        f"start-up: import + first classify {float(result.stdout):.2f} s "
        f"({total:.2f} s with the interpreter's own start)"
    )
    return float(result.stdout)


def command_loop(lines: list[dict[str, str]], count: int, label: str) -> None:
    """The loop of `oprit triage` (bot/cli.py cmd_triage), timed per message."""
    from bot import triage

    payload = "".join(
        json.dumps(lines[i % len(lines)], ensure_ascii=False) + "\n" for i in range(count)
    )
    out = io.StringIO()
    latencies: list[float] = []
    started = time.perf_counter()
    for line in io.StringIO(payload):
        item = json.loads(line)
        before = time.perf_counter()
        verdict = triage.classify(item["text"], item.get("lang", "nl"))
        latencies.append(time.perf_counter() - before)
        out.write(json.dumps(verdict.to_dict(), ensure_ascii=False) + "\n")
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"{label}: {count} lines in {elapsed:.2f} s = {count / elapsed:,.0f} lines/s; "
        f"per message median {statistics.median(latencies) * 1e3:.3f} ms, "
        f"p99 {p99 * 1e3:.3f} ms, slowest {latencies[-1] * 1e3:.1f} ms"
    )


def huge() -> None:
    from bot import triage

    filler = "vandaag was een gewone dag en alles gaat goed met me. "
    text = filler * (5_000_000 // len(filler)) + "maar ik wil er een eind aan maken"
    started = time.perf_counter()
    verdict = triage.classify(text, "nl")
    print(f"5 MB message: {time.perf_counter() - started:.2f} s, severity {verdict.severity}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()
    start_up()
    from bot import triage

    triage.prepare()
    command_loop(corpus_lines(everyday=False), args.lines, "corpus lines (half flagged)")
    command_loop(corpus_lines(everyday=True), args.lines, "everyday lines")
    for weeks, label in ((False, "blind sets, one pass"), (True, "blind weeks, one pass")):
        lines = blind_lines(weeks)
        command_loop(lines, len(lines), label)
    huge()


if __name__ == "__main__":
    main()
