"""Writing a report: one HTML page with the charts inline (opens offline, sends no
request), a PDF for print and e-mail, and one CSV per table. All three show the cells
exactly as `bot.report.model.cell_text` reads them, so hidden cells stay hidden.

Files are written into a temporary directory beside the target and moved in at the
end: a failure half-way leaves nothing behind.
"""

from __future__ import annotations

import base64
import csv
import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date
from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.i18n import _, ngettext, timestamp, use_language
from bot.report.charts import Chart, draw
from bot.report.model import Report, Table, cell_text
from bot.services.letter import FONT_PATHS

FORMATS = ("html", "pdf", "csv")
Step = Callable[[int], object]


class ReportError(RuntimeError):
    """The report cannot be written (bad output directory, no font)."""


RTL = ("ar",)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(_=_, ngettext=ngettext)
    return env


def heading(report: Report) -> dict[str, str]:
    """The lines above the figures, in the report's language (the HTML and the PDF say
    the same): title, period, cohort and how to read a hidden cell."""
    language = report.language
    with use_language(language):
        return {
            "title": _("Oprit pilot report"),
            "period": _(
                "Period {first} to {last} (both days included, {timezone}). Made {made}. "
                "Cohort: {participants}."
            ).format(
                first=format_date(report.first, "long", locale=language),
                last=format_date(report.last, "long", locale=language),
                timezone=report.timezone,
                made=timestamp(report.made_at, ZoneInfo(report.timezone)),
                participants=ngettext(
                    "{count} participant", "{count} participants", report.participants
                ).format(count=format_decimal(report.participants, locale=language)),
            ),
            # Translators: pilot report; keep <5 and x as they are: the tables show them
            "legend": _(
                "Participants are never named: every figure counts people or events. A "
                "figure behind fewer than 5 participants shows <5; a figure shown as x is "
                "hidden so that a <5 cannot be worked out from a total."
            ),
            "empty": _(
                "No participants were enrolled by the end of this period: there is "
                "nothing to report."
            ),
            # Translators: pilot report, title of the last section: how every figure is counted
            "methods": _("Methods"),
            # Translators: pilot report, the term the first methods entry defines
            "period_term": _("Period"),
            "period_text": _(
                "From local midnight at the start of the first day to local midnight after "
                "the last day ({timezone}). Weeks start on Monday (local time) and are "
                "named by that Monday."
            ).format(timezone=report.timezone),
            # Translators: pilot report, the term of the methods entry on hiding small numbers
            "protection_term": _("Protection"),
            # Translators: pilot report; keep <5 and x as they are: the tables show them
            "protection_text": _(
                "Counts of fewer than 5 participants, and any figure (a count of events, a "
                "median, a share) that rests on fewer than 5 participants, show <5. Zero "
                "is shown. In tables with totals more cells are hidden (x) until no <5 can "
                "be worked out by subtracting from a total. No names, messages, notes or "
                "chat ids are in this report."
            ),
            # Translators: pilot report, a table with no rows
            "none": _("none in this period"),
        }


def body(report: Report, charts: dict[str, Chart], *, images: bool = False) -> str:
    """The report's sections, tables and methods as HTML to put in a page: charts as
    inline SVG, or (`images`, for a page whose policy forbids inline styles) as PNG.
    Every value is escaped; only matplotlib's SVG of our own labels goes in as markup."""
    shown = {
        key: base64.b64encode(chart.png).decode() if images else chart.svg
        for key, chart in charts.items()
    }
    template = _environment().get_template("body.html")
    with use_language(report.language):
        return template.render(
            report=report,
            words=heading(report),
            charts=shown,
            images=images,
            text=lambda cell: cell_text(cell, report.language),
        )


def html(report: Report, charts: dict[str, Chart]) -> str:
    """The report as one self-contained HTML page."""
    template = _environment().get_template("report.html")
    return template.render(
        report=report,
        words=heading(report),
        direction="rtl" if report.language in RTL else "ltr",
        body=body(report, charts),
    )


def charts_of(report: Report) -> dict[str, Chart]:
    """The chart of every weekly table (none for an empty report), in its language."""
    if report.empty:
        return {}
    with use_language(report.language):
        return {table.key: draw(table) for table in report.tables() if table.chart}


def csv_zip(report: Report) -> bytes:
    """Every table's CSV in one zip file (for a download)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        use_language(report.language),
    ):
        for table in report.tables():
            archive.writestr(f"{table.key}.csv", table_csv(table))
    return buffer.getvalue()


def table_csv(table: Table) -> str:
    """One table as CSV: a header row, then one row per label. The file name is the
    table's stable key; headers and labels are the report's words, the numbers plain
    (`1234.5`) so that any program reads them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # Translators: pilot report, CSV header of a table's first column when it has none
    writer.writerow([table.row_header or _("figure"), *table.columns])
    for label, cells in table.rows:
        writer.writerow([label, *(cell_text(cell) for cell in cells)])
    return buffer.getvalue()


def _fonts() -> tuple[Path, Path]:
    for regular in FONT_PATHS:
        bold = regular.with_name("DejaVuSans-Bold.ttf")
        if regular.is_file() and bold.is_file():
            return regular, bold
    raise ReportError("no Unicode font for the PDF: install fonts-dejavu-core")


def pdf(report: Report, charts: dict[str, Chart]) -> bytes:
    """The report as an A4 PDF: each section's charts with their tables, then methods."""
    with use_language(report.language):
        return _pdf(report, charts)


def _pdf(report: Report, charts: dict[str, Chart]) -> bytes:
    regular, bold = _fonts()
    words = heading(report)
    document = FPDF(format="A4")
    document.set_margins(15, 15, 15)
    document.set_auto_page_break(auto=True, margin=15)
    document.add_font("body", fname=str(regular))
    document.add_font("body", style="B", fname=str(bold))
    document.set_lang(report.language)
    if report.language in RTL:
        # HarfBuzz joins the Arabic letters and orders mixed lines (slow: only when needed)
        document.set_text_shaping(True)
    document.set_title(f"{words['title']} {report.first} - {report.last}")
    document.add_page()

    def text(words: str, size: float = 10, style: str = "", gap: float = 1.5) -> None:
        document.set_font("body", style=style, size=size)
        document.multi_cell(0, size * 0.45, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        document.ln(gap)

    text(words["title"], 20, "B", 2)
    text(words["period"])
    text(words["legend"])
    if report.empty:
        text(words["empty"], 12, "B")
    else:
        for section in report.sections:
            if document.get_y() > 200:
                document.add_page()
            text(section.title, 15, "B", 2)
            for table in section.tables:
                _pdf_table(document, table, charts.get(table.key), text, report.language)
    document.add_page()
    text(words["methods"], 15, "B", 2)
    for term, definition in (
        (words["period_term"], words["period_text"]),
        (words["protection_term"], words["protection_text"]),
    ):
        text(term, 10, "B", 0.5)
        text(definition, 9.5)
    for section in report.sections:
        for term, definition in section.definitions:
            text(f"{section.title}: {term}", 10, "B", 0.5)
            text(definition, 9.5)
    return bytes(document.output())


def _pdf_table(
    document: FPDF, table: Table, chart: Chart | None, text: Callable[..., None], language: str
) -> None:
    height = 8 + 5.5 * (len(table.rows) + 1) + (70 if chart else 0)
    if document.get_y() + min(height, 120) > document.h - 15:
        document.add_page()
    text(table.title, 11, "B", 1)
    if chart is not None:
        document.image(io.BytesIO(chart.png), w=document.epw)
        document.ln(2)
    document.set_font("body", size=8.5)
    # Wide enough for the longest word of each header (a word never breaks), the labels
    # get what is left.
    columns = [max(6, *(len(word) for word in name.split())) for name in table.columns]
    labels = max([len(table.row_header), *(len(label) for label, _ in table.rows)], default=8)
    widths = (min(32, max(12, labels)) + 2, *(width + 3 for width in columns))
    with document.table(
        width=min(document.epw, 2.1 * sum(widths)),
        align="LEFT",
        col_widths=widths,
        text_align=("LEFT", *(["RIGHT"] * len(table.columns))),
        line_height=4.5,
        first_row_as_headings=True,
    ) as grid:
        grid.row([table.row_header or "", *table.columns])
        if not table.rows:
            grid.row([_("none in this period"), *([""] * len(table.columns))])
        for label, cells in table.rows:
            grid.row([label, *(cell_text(cell, language) for cell in cells)])
    document.ln(4)


def write(
    report: Report, directory: Path, formats: Sequence[str], step: Step = lambda done: None
) -> list[Path]:
    """Write the report's files into `directory` (created when missing); returns them.
    On any failure nothing is left: not a file, not a directory this call made."""
    made = next((p for p in reversed([directory, *directory.parents]) if not p.exists()), None)
    written: list[Path] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".report-", dir=directory))
    except OSError as error:
        _undo(made, written)
        raise ReportError(f"cannot write to {directory}: {error.strerror or error}") from None
    try:
        charts = charts_of(report) if "html" in formats or "pdf" in formats else {}
        step(1)
        names: list[str] = []
        if "html" in formats:
            (staging / "report.html").write_text(html(report, charts), encoding="utf-8")
            names.append("report.html")
        if "pdf" in formats:
            (staging / "report.pdf").write_bytes(pdf(report, charts))
            names.append("report.pdf")
        step(1)
        if "csv" in formats:
            with use_language(report.language):
                for table in report.tables():
                    name = f"{table.key}.csv"
                    (staging / name).write_text(table_csv(table), encoding="utf-8")
                    names.append(name)
        for name in names:
            target = directory / name
            (staging / name).replace(target)
            written.append(target)
        step(1)
        return written
    except OSError as error:
        _undo(made, written)
        raise ReportError(f"cannot write to {directory}: {error.strerror or error}") from None
    except BaseException:
        _undo(made, written)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _undo(made: Path | None, written: Sequence[Path]) -> None:
    """Take back what a failed write left: the files moved in, the directories made."""
    for path in written:
        path.unlink(missing_ok=True)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)


WRITE_STEPS = 3
