"""Progress bars for long CLI work (`keys rotate`, `purge`): shown on a terminal only.

With --json, or when stdout or stderr is not a terminal (a pipe, a file, systemd's
journal, `oprit-admin` in a script), nothing extra is printed: the output stays exactly
one line or one JSON document. The bar goes to stderr and is removed when done.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

Advance = Callable[[int], object]


def wanted(as_json: bool) -> bool:
    """A person watches a terminal, and asked for no machine-readable output."""
    return not as_json and sys.stdout.isatty() and sys.stderr.isatty()


@contextmanager
def progress(as_json: bool, total: int | None, unit: str, what: str) -> Iterator[Advance]:
    """A function to call with the amount of work just done (a bar, or nothing)."""
    if not wanted(as_json):
        yield lambda done: None
        return
    with tqdm(total=total, unit=unit, desc=what, file=sys.stderr, leave=False) as bar:
        yield bar.update
