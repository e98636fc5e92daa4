"""Charts of the weekly trends, drawn with matplotlib's Agg canvas (no display needed):
inline SVG for the HTML (no file or request beside the page) and PNG for the PDF.

Made for print: black-and-white safe (each series has its own marker and line style),
large labels; a hidden figure (`<5`) is a gap in the line, never a zero.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date

import matplotlib
from babel.dates import format_date
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.i18n import _, current_language
from bot.report.model import Table

MARKERS = ("o", "s", "^", "D", "v", "P")
STYLES = ("-", "--", "-.", ":", "-", "--")
COLOURS = ("#1b4f72", "#c0392b", "#239b56", "#7d3c98", "#b9770e", "#566573")
HATCHES = ("", "//", "..", "xx", "\\\\", "--")


@dataclass(frozen=True)
class Chart:
    """One chart in both forms."""

    svg: str
    png: bytes


def _series(table: Table) -> list[int]:
    """The columns to draw: the percentages when there are any, else every column."""
    return table.shares or list(range(len(table.columns)))


def _value(table: Table, row: int, column: int) -> float:
    cell = table.rows[row][1][column]
    return math.nan if cell.hidden or cell.value is None else float(cell.value)


def _figure(table: Table) -> Figure:
    # A Figure with its own Agg canvas, not pyplot: no global state, so the dashboard may
    # draw in a worker thread while another request draws too.
    figure = Figure(figsize=(8, 3.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    language = current_language()
    weeks = [
        format_date(date.fromisoformat(label), "d MMM", locale=language)
        for label, _row in table.rows
    ]
    positions = list(range(len(weeks)))
    columns = _series(table)
    width = 0.8 / max(1, len(columns))
    for n, column in enumerate(columns):
        values = [_value(table, row, column) for row in positions]
        name = table.columns[column]
        if table.chart == "bar":
            offset = (n - (len(columns) - 1) / 2) * width
            axes.bar(
                [p + offset for p in positions],
                [0 if math.isnan(v) else v for v in values],
                width,
                label=name,
                color=COLOURS[n % len(COLOURS)],
                hatch=HATCHES[n % len(HATCHES)],
                edgecolor="black",
                linewidth=0.4,
            )
        else:
            axes.plot(
                positions,
                values,
                label=name,
                color=COLOURS[n % len(COLOURS)],
                marker=MARKERS[n % len(MARKERS)],
                linestyle=STYLES[n % len(STYLES)],
                markersize=4,
            )
    step = max(1, math.ceil(len(weeks) / 13))
    axes.set_xticks(positions[::step], weeks[::step], rotation=45, fontsize=8)
    # Translators: pilot report, a chart's axis: each week is named by its Monday
    axes.set_xlabel(_("week starting on Monday"), fontsize=9)
    axes.tick_params(axis="y", labelsize=8)
    axes.grid(axis="y", linewidth=0.3)
    axes.set_ylim(bottom=0, top=100 if table.shares else None)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(
        fontsize=8,
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=min(len(columns), 5),
    )
    figure.tight_layout()
    return figure


def draw(table: Table) -> Chart:
    """The chart of a weekly table, its words in the current language."""
    figure = _figure(table)
    svg = io.StringIO()
    figure.savefig(svg, format="svg", metadata={"Date": None})
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=150)
    text = svg.getvalue()
    text = text[text.index("<svg") :]
    return Chart(text, png.getvalue())


matplotlib.rcParams["svg.hashsalt"] = "oprit-report"
