"""What a pilot report is made of: sections with their definitions, tables of protected
cells, and the weekly tables that also get a chart. The writers (HTML, PDF, CSV) read
only this, so every output shows the same figures with the same cells hidden."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from babel.numbers import format_decimal

from bot.report.protect import Cell, Line, lines, protect


@dataclass
class Table:
    """One table: a header for the row labels, column names, labelled rows of cells.
    `total_row` / `total_column`: the last row / column is the sum of the others (the
    total row only of `sum_columns` when given); `row_sums`: groups of columns whose
    last is the sum of the others in every row."""

    key: str
    title: str
    row_header: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    total_row: bool = False
    total_column: bool = False
    sum_columns: list[int] | None = None
    row_sums: list[tuple[int, ...]] = field(default_factory=list)
    # A weekly trend is drawn too: "line" or "bar" (rows are weeks, columns the series).
    chart: str | None = None
    # The columns that are percentages (a chart draws only these when there are any).
    shares: list[int] = field(default_factory=list)
    note: str = ""

    def grid(self) -> list[list[Cell]]:
        """The cells, row by row."""
        return [cells for _, cells in self.rows]

    def sums(self) -> list[Line]:
        """Every set of cells that adds up to a cell of this table."""
        return lines(
            len(self.rows),
            len(self.columns),
            total_row=self.total_row,
            total_column=self.total_column,
            sum_columns=self.sum_columns,
            row_sums=self.row_sums,
        )

    def protect(self) -> Table:
        """Apply small-cell suppression to this table's cells; returns the table."""
        protect(self.grid(), self.sums())
        return self


@dataclass
class Section:
    """A group of figures and the definitions the methods section prints for them."""

    key: str
    title: str
    definitions: list[tuple[str, str]]
    tables: list[Table] = field(default_factory=list)


@dataclass
class Report:
    """The whole report for one period."""

    first: date
    last: date
    made_at: datetime
    timezone: str
    participants: int
    sections: list[Section]
    # The language its words were made in; the writers use it for theirs.
    language: str

    @property
    def empty(self) -> bool:
        """Nobody was enrolled by the end of the period: nothing to report."""
        return self.participants == 0

    def tables(self) -> list[Table]:
        """Every table in the order of the report."""
        return [table for section in self.sections for table in section.tables]


def cell_text(cell: Cell, language: str | None = None) -> str:
    """How a cell reads in every output: `<5` or `x` when hidden, `–` when empty. With a
    language, numbers as its readers write them (Babel: `1.234,5` in Dutch); without,
    plain for a CSV that any program reads (`1234.5`)."""
    if cell.hidden is not None:
        return cell.hidden
    if cell.value is None:
        return "–"
    whole = float(cell.value).is_integer()
    if language is not None:
        return format_decimal(cell.value, "#,##0" if whole else "#,##0.0", locale=language)
    return str(int(cell.value)) if whole else f"{cell.value:.1f}"
