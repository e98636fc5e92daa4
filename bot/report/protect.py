"""Small-cell suppression: no figure in the report lets a reader single out fewer than
five people, not even by subtracting shown figures from a shown total.

A figure behind fewer than five participants (but at least one) is hidden as `<5`
(primary suppression). In a table with totals, a reader may still work a hidden figure
out: a row total minus the shown cells gives it when it is the only one hidden, and two
hidden counts of people that add up to 2 must both be 1. So the reader's reasoning is
run here (interval propagation over every row and column until nothing narrows), and as
long as it pins a hidden figure to one value, one more cell on its row or column is
hidden as `x` (secondary suppression), the smallest shown one first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SMALL = 5
PRIMARY = "<5"
SECONDARY = "x"
Interval = tuple[float, float]
Position = tuple[int, int]
Line = list[Position]


@dataclass
class Cell:
    """One figure: its value, how many participants are behind it, and whether it counts
    people (then a hidden value lies in 1..4; other counts are only known to be > 0)."""

    value: float | None
    people: int
    counts_people: bool = False
    hidden: str | None = None

    @property
    def shown(self) -> bool:
        """Neither suppressed nor empty."""
        return self.hidden is None and self.value is not None


def hide_small(cell: Cell) -> Cell:
    """Primary suppression of one cell (0 people is shown: nobody is singled out)."""
    if 0 < cell.people < SMALL and cell.value is not None:
        cell.hidden = PRIMARY
    return cell


def _bounds(cell: Cell) -> Interval:
    if cell.value is None:
        return (0.0, 0.0)
    if cell.hidden is None:
        return (float(cell.value), float(cell.value))
    if cell.hidden == PRIMARY:
        return (1.0, float(SMALL - 1) if cell.counts_people else math.inf)
    return (0.0, math.inf)


def lines(
    rows: int,
    columns: int,
    *,
    total_row: bool = False,
    total_column: bool = False,
    sum_columns: Sequence[int] | None = None,
    row_sums: Sequence[Sequence[int]] = (),
) -> list[Line]:
    """The sets of cells of a grid that add up, each with its sum last: with a total
    column each row, with a total row each column (or only `sum_columns`), and in each
    row every group of `row_sums` (columns whose last is the sum of the others, like
    answered + not answered = prompts)."""
    summed = range(columns) if sum_columns is None else sum_columns
    across = [[(r, c) for c in range(columns)] for r in range(rows)] if total_column else []
    down = [[(r, c) for r in range(rows)] for c in summed] if total_row else []
    groups = [[(r, c) for c in group] for r in range(rows) for group in row_sums]
    return across + down + groups


def reader_bounds(grid: Sequence[Sequence[Cell]], sums: Sequence[Line]) -> list[list[Interval]]:
    """What a reader can know of each cell from what is shown and the sums."""
    bounds = [[_bounds(cell) for cell in row] for row in grid]
    for _ in range(100):
        changed = False
        for line in sums:
            *parts, total = line
            for position in line:
                others = [p for p in parts if p != position]
                low, high = bounds[position[0]][position[1]]
                if position == total:
                    new_low = max(low, sum(bounds[r][c][0] for r, c in parts))
                    new_high = min(high, sum(bounds[r][c][1] for r, c in parts))
                else:
                    t_low, t_high = bounds[total[0]][total[1]]
                    new_low = max(low, t_low - sum(bounds[r][c][1] for r, c in others))
                    new_high = min(high, t_high - sum(bounds[r][c][0] for r, c in others))
                if (new_low, new_high) != (low, high):
                    bounds[position[0]][position[1]] = (new_low, new_high)
                    changed = True
        if not changed:
            break
    return bounds


def _pinned(grid: Sequence[Sequence[Cell]], sums: Sequence[Line]) -> list[Position]:
    bounds = reader_bounds(grid, sums)
    return [
        (r, c)
        for r, row in enumerate(grid)
        for c, cell in enumerate(row)
        if cell.hidden == PRIMARY and bounds[r][c][1] - bounds[r][c][0] < 1
    ]


def protect(grid: Sequence[Sequence[Cell]], sums: Sequence[Line] = ()) -> None:
    """Hide small cells, then (where cells add up to a shown sum) hide more until no
    small cell can be worked out.

    Greedy: for the first small cell the reader can pin, hide the cheapest shown cell
    (inner before sums, small before large) that frees it; when no single cell does,
    hide the cheapest non-zero cell that adds up with it (or any that adds up) and look
    again. Every round hides one more cell, so it ends. When all that adds up is hidden
    and a cell is still pinned (a whole table about a few people), every hidden cell
    says only `x`."""
    for row in grid:
        for cell in row:
            hide_small(cell)
    if not sums or not grid:
        return
    totals = {line[-1] for line in sums}
    members = sorted({position for line in sums for position in line})

    def cost(position: Position) -> tuple[bool, bool, float, Position]:
        value = grid[position[0]][position[1]].value or 0
        return (position in totals, value == 0, value, position)

    while pinned := _pinned(grid, sums):
        target = pinned[0]
        shown = sorted((p for p in members if grid[p[0]][p[1]].shown), key=cost)
        if not shown:
            # `<5` (1..4) still pins a cell when everything that adds up is hidden: the
            # table is about a few people. Saying only "hidden" of any cell pins nothing.
            for row in grid:
                for cell in row:
                    if cell.hidden == PRIMARY:
                        cell.hidden = SECONDARY
            return
        choice = next((p for p in shown if _frees(grid, p, target, sums)), None)
        if choice is None:
            near = {p for line in sums if target in line for p in line}
            choice = next((p for p in shown if p in near and grid[p[0]][p[1]].value), shown[0])
        grid[choice[0]][choice[1]].hidden = SECONDARY


def _frees(
    grid: Sequence[Sequence[Cell]], position: Position, target: Position, sums: Sequence[Line]
) -> bool:
    """Would hiding `position` stop the reader pinning `target`?"""
    cell = grid[position[0]][position[1]]
    cell.hidden = SECONDARY
    try:
        return target not in _pinned(grid, sums)
    finally:
        cell.hidden = None
