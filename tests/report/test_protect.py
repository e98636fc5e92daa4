"""Small-cell suppression, property-tested: for any table of counts of people with row and
column totals, no hidden count below 5 can be worked out from what is shown.

The reader here is exact and independent of bot.report.protect: it searches every
assignment of whole numbers to the hidden cells that agrees with all shown cells and all
row and column sums (a hidden `<5` of people is 1..4, any other hidden cell 0 or more,
capped at the grand total plus five, which only makes the reader stronger) and asserts
that every `<5` cell could take at least two values.
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.report.protect import PRIMARY, SECONDARY, Cell, lines, protect, reader_bounds

Grid = list[list[int]]


def _with_totals(inner: Grid) -> Grid:
    rows = [[*row, sum(row)] for row in inner]
    return [*rows, [sum(column) for column in zip(*rows, strict=True)]]


def _protected(full: Grid) -> list[list[Cell]]:
    cells = [[Cell(v, v, counts_people=True) for v in row] for row in full]
    protect(cells, lines(len(full), len(full[0]), total_row=True, total_column=True))
    return cells


def _options(cell: Cell, cap: int) -> range:
    if cell.hidden == PRIMARY:
        return range(1, 5)  # the reader knows a `<5` of people is 1 to 4
    if cell.hidden == SECONDARY:
        return range(0, cap + 1)
    return range(int(cell.value or 0), int(cell.value or 0) + 1)


def _solutions(cells: list[list[Cell]], fixed: tuple[int, int], value: int) -> Iterator[Grid]:
    """Inner grids consistent with everything shown, with `fixed` set to `value`."""
    rows, columns = len(cells) - 1, len(cells[0]) - 1
    cap = int(cells[-1][-1].value or 0) + 5
    inner = [[0] * columns for _ in range(rows)]

    def fits(total: Cell, amount: int) -> bool:
        return amount in _options(total, cap) if total.hidden else amount == total.value

    def place(index: int) -> Iterator[Grid]:
        if index == rows * columns:
            sums = [sum(inner[r][c] for r in range(rows)) for c in range(columns)]
            if all(fits(cells[-1][c], sums[c]) for c in range(columns)) and fits(
                cells[-1][-1], sum(sums)
            ):
                yield [row[:] for row in inner]
            return
        r, c = divmod(index, columns)
        options = [value] if (r, c) == fixed else _options(cells[r][c], cap)
        for option in options:
            inner[r][c] = option
            partial = [sum(inner[i][c] for i in range(r + 1))]
            if not cells[-1][c].hidden and partial[0] > (cells[-1][c].value or 0):
                continue
            if c == columns - 1 and not fits(cells[r][-1], sum(inner[r])):
                continue
            yield from place(index + 1)

    yield from place(0)


def _can_be(cells: list[list[Cell]], position: tuple[int, int], value: int) -> bool:
    r, c = position
    rows, columns = len(cells) - 1, len(cells[0]) - 1
    if r < rows and c < columns:
        return next(_solutions(cells, position, value), None) is not None
    # A total: some consistent inner grid must give it this value.
    for inner in _solutions(cells, (-1, -1), 0):
        full = _with_totals(inner)
        if full[r][c] == value:
            return True
    return False


small_counts = st.integers(min_value=0, max_value=9)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=3).flatmap(
        lambda columns: st.lists(
            st.lists(small_counts, min_size=columns, max_size=columns), min_size=1, max_size=3
        )
    )
)
def test_no_hidden_small_count_can_be_worked_out(inner: Grid) -> None:
    full = _with_totals(inner)
    cells = _protected(full)
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            if 0 < full[r][c] < 5:
                assert cell.hidden is not None, (full, r, c)
                # `x` only when the whole table is about a few people: then all is `x`.
                assert cell.hidden == PRIMARY or all(
                    c.hidden == SECONDARY for line in cells for c in line if c.value
                )
            if cell.hidden is not None and 0 < full[r][c] < 5:
                others = [v for v in range(1, 5) if v != full[r][c]]
                assert any(_can_be(cells, (r, c), v) for v in others), (full, r, c)
            if cell.hidden is None:
                assert cell.value == full[r][c]


def test_a_lone_small_cell_takes_a_neighbour_with_it() -> None:
    cells = _protected(_with_totals([[3, 20]]))
    assert [cell.hidden for cell in cells[0]] == [PRIMARY, SECONDARY, None]


def test_two_small_cells_that_must_both_be_four_are_not_left_alone() -> None:
    # 4 + 4 + 30 = 38: the reader would know both hidden cells are 4.
    cells = [[Cell(v, v, counts_people=True)] for v in (4, 4, 30, 38)]
    protect(cells, lines(4, 1, total_row=True))
    assert [row[0].hidden for row in cells] == [PRIMARY, PRIMARY, SECONDARY, None]


def test_zero_is_shown_and_five_is_not_small() -> None:
    cells = [[Cell(0, 0, True)], [Cell(5, 5, True)], [Cell(5, 5, True)]]
    protect(cells, lines(3, 1, total_row=True))
    assert [row[0].hidden for row in cells] == [None, None, None]


def test_a_complement_in_the_same_row_counts_too() -> None:
    # prompts = answered + not answered: 20 = 17 + 3 gives the 3 back unless one more goes
    cells = [[Cell(20, 20, True), Cell(17, 17, True), Cell(3, 3, True)]]
    protect(cells, lines(1, 3, row_sums=[(1, 2, 0)]))
    assert [cell.hidden for cell in cells[0]] == [SECONDARY, None, PRIMARY] or [
        cell.hidden for cell in cells[0]
    ] == [None, SECONDARY, PRIMARY]


def test_a_figure_resting_on_few_people_is_hidden_whatever_its_size() -> None:
    cells = [[Cell(250, 3), Cell(12.5, 2), Cell(None, 0)]]
    protect(cells)
    assert [cell.hidden for cell in cells[0]] == [PRIMARY, PRIMARY, None]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(small_counts, small_counts, st.booleans()), min_size=1, max_size=4))
def test_a_count_and_its_complement_never_give_a_small_group_back(
    rows: list[tuple[int, int, bool]],
) -> None:
    """Rows of (whole, part, rest) like prompts = answered + not answered, with a total
    row; counts of people or of events (a hidden count of events is only known > 0).
    The reader here is the interval reasoning of bot.report.protect itself."""
    full = [[a + b, a, b] for a, b, _ in rows]
    full.append([sum(column) for column in zip(*full, strict=True)])
    people = [flag for _, _, flag in rows] + [True]
    cells = [
        [Cell(v, v, counts_people=p) for v in row] for row, p in zip(full, people, strict=True)
    ]
    sums = lines(len(full), 3, total_row=True, row_sums=[(1, 2, 0)])
    protect(cells, sums)
    bounds = reader_bounds(cells, sums)
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            if 0 < full[r][c] < 5:
                assert cell.hidden is not None, (full, r, c)
            if cell.hidden == PRIMARY:
                low, high = bounds[r][c]
                assert high - low >= 1, (full, r, c)
