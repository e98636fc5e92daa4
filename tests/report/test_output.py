"""`oprit report` end to end on the seeded pilot: the files it names exist, no name, text
or chat id of the database is in any of them, every PDF page renders with content, the
HTML opens in a real browser without a single outside request, it is audited, and bad
input gets one `oprit: ...` line, exit 1 and no files."""

from __future__ import annotations

import asyncio
import csv
import importlib
import io
import json
from pathlib import Path
from typing import Any

import pypdfium2
import pytest

from bot.app import open_runtime
from bot.cli import main
from bot.report.model import cell_text
from bot.report.protect import PRIMARY, Cell
from db import audit
from tests.browser import assert_not_blank, screenshot_dir
from tests.conftest import TEST_KEY, make_settings
from tests.report import seed

PERIOD = ["--from", seed.FIRST.isoformat(), "--to", seed.LAST.isoformat()]


async def _seed(url: str) -> None:
    runtime = await open_runtime(make_settings(database_url=url))
    try:
        async with runtime.sessions() as session, session.begin():
            await seed.seed(session)
    finally:
        await runtime.engine.dispose()


async def _audit(url: str) -> list[Any]:
    runtime = await open_runtime(make_settings(database_url=url))
    try:
        async with runtime.sessions() as session:
            return [entry for entry in await audit.since(session, None) if entry.action == "report"]
    finally:
        await runtime.engine.dispose()


@pytest.fixture
def cli(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """Runs `oprit ARGS`; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("OPRIT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("OPRIT_ENCRYPTION_KEY", TEST_KEY)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def written(cli: Any, sqlite_url: str, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """The seeded pilot's report in tmp_path/out, and the JSON answer."""
    asyncio.run(_seed(sqlite_url))
    out = tmp_path / "out"
    code, stdout, stderr = cli("report", *PERIOD, "--out", str(out), "--language", "en", "--json")
    assert code == 0, stderr
    return out, json.loads(stdout)


def _pdf_text(path: Path) -> str:
    document = pypdfium2.PdfDocument(path)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def test_the_answer_names_every_file_and_the_cohort(
    written: tuple[Path, dict[str, Any]], sqlite_url: str
) -> None:
    out, answer = written
    assert answer["participants"] == 30
    assert answer["period"] == {
        "from": "2026-03-02",
        "to": "2026-03-29",
        "timezone": "Europe/Amsterdam",
    }
    files = sorted(Path(name).name for name in answer["files"])
    assert files == sorted(path.name for path in out.iterdir())
    assert {"report.html", "report.pdf", "reach_enrolment.csv", "bot_messages.csv"} <= set(files)
    with (out / "reach_status.csv").open(newline="") as status:
        assert list(csv.reader(status)) == [
            ["status", "participants"],
            ["not registered: in detention, invite not used", "<5"],
            ["not registered: invite used, no consent yet", "<5"],
            ["registered: active", "20"],
            ["registered: paused (/stop)", "<5"],
            ["registered: unreachable (blocked the bot)", "<5"],
            ["total", "30"],
        ]
    (entry,) = asyncio.run(_audit(sqlite_url))
    assert entry.actor == "cli"
    assert entry.detail == {
        "from": "2026-03-02",
        "to": "2026-03-29",
        "formats": ["html", "pdf", "csv"],
    }


def test_no_name_text_or_id_of_the_database_is_in_any_file(
    written: tuple[Path, dict[str, Any]],
) -> None:
    out, _answer = written
    assert seed.SECRETS
    for path in out.iterdir():
        text = _pdf_text(path) if path.suffix == ".pdf" else path.read_text(encoding="utf-8")
        assert len(text) > 20, path.name
        # Without any white space: a PDF line may break inside a name.
        squeezed = "".join(text.lower().split())
        leaked = [word for word in seed.SECRETS if "".join(word.lower().split()) in squeezed]
        assert not leaked, f"{path.name} holds {leaked}"


def test_every_pdf_page_renders_with_content(
    written: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _answer = written
    document = pypdfium2.PdfDocument(out / "report.pdf")
    assert len(document) >= 4
    shots = screenshot_dir(tmp_path / "shots")
    for number, page in enumerate(document, start=1):
        buffer = io.BytesIO()
        page.render(scale=1.5).to_pil().save(buffer, format="PNG")
        assert_not_blank(buffer.getvalue())
        (shots / f"report-page-{number}.png").write_bytes(buffer.getvalue())
    text = _pdf_text(out / "report.pdf")
    assert "Methods" in text and "Time to acknowledge" in text and "<5" in text


def test_the_html_opens_offline_with_charts_and_tables(
    written: tuple[Path, dict[str, Any]], page: Any, tmp_path: Path
) -> None:
    out, _answer = written
    page.set_content((out / "report.html").read_text(encoding="utf-8"), wait_until="load")
    assert page.locator("h1").inner_text() == "Oprit pilot report"
    assert page.locator("figure.chart svg").count() == 6
    assert page.locator("table").count() == len(list(out.glob("*.csv"))) == 19
    row = page.locator("#safety_alerts tr", has_text="critical")
    assert row.locator("td").first.inner_text() == "6"
    png = page.screenshot(full_page=True)
    assert_not_blank(png)
    (screenshot_dir(tmp_path / "shots") / "report.png").write_bytes(png)


def test_an_empty_database_gets_a_report_that_says_so(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    code, stdout, _err = cli(
        "report", *PERIOD, "--out", str(out), "--format", "html", "--language", "en", "--json"
    )
    assert code == 0 and json.loads(stdout)["participants"] == 0
    assert "nothing to report" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--from", "2026-04-01", "--to", "2026-03-01"], "is after --to"),
        (["--from", "2026-02-30", "--to", "2026-03-01"], "is not a date"),
        (["--from", "yesterday", "--to", "2026-03-01"], "is not a date"),
        (["--from", "", "--to", "2026-03-01"], "is not a date"),
        (["--from", "٢٠٢٦-٠٣-٠١\u202e", "--to", "2026-03-01"], "is not a date"),
        (["--from", "2026-03-01" * 1000, "--to", "2026-03-01"], "is not a date"),
        (["--from", "0026-01-01", "--to", "2026-12-31"], "at most 5 years apart"),
        ([*PERIOD, "--format", "docx"], "not one of html, pdf, csv"),
        ([*PERIOD, "--format", ","], "not one of html, pdf, csv"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_no_files(
    cli: Any, tmp_path: Path, sqlite_url: str, arguments: list[str], says: str
) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = cli("report", *arguments, "--out", str(out), "--json")
    assert code == 1 and stdout == ""
    assert stderr.startswith("oprit: ") and says in stderr and stderr.count("\n") == 1
    assert not out.exists()


def test_an_unwritable_out_is_one_line_and_nothing_is_left(
    cli: Any, tmp_path: Path, sqlite_url: str
) -> None:
    asyncio.run(_seed(sqlite_url))
    taken = tmp_path / "a-file"
    taken.write_text("x")
    code, _out, stderr = cli("report", *PERIOD, "--out", str(taken), "--json")
    assert code == 1 and stderr.startswith("oprit: ") and "is a file" in stderr
    code, _out, stderr = cli("report", *PERIOD, "--out", str(taken / "sub"), "--json")
    assert code == 1 and stderr.startswith("oprit: cannot write to")
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("oprit.db")] == ["a-file"]
    assert asyncio.run(_audit(sqlite_url)) == []


def test_a_failure_half_way_leaves_nothing(
    cli: Any, tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No font for the PDF: the CSVs and the HTML were made, but none is left behind,
    nor the directories the command made."""
    # the module (bot.report.write the name is the function bot.report exports)
    write = importlib.import_module("bot.report.write")
    asyncio.run(_seed(sqlite_url))
    monkeypatch.setattr(write, "FONT_PATHS", (tmp_path / "no-font" / "DejaVuSans.ttf",))
    out = tmp_path / "new" / "out"
    code, _out, stderr = cli("report", *PERIOD, "--out", str(out), "--json")
    assert code == 1 and stderr == "oprit: no Unicode font for the PDF: install fonts-dejavu-core\n"
    assert not (tmp_path / "new").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "mine.txt").write_text("not the report's")
    code, _out, _err = cli("report", *PERIOD, "--out", str(kept), "--json")
    assert code == 1 and [p.name for p in kept.iterdir()] == ["mine.txt"]


# Figure titles and words of the English report that must not be left in the Dutch one.
ENGLISH = [
    "Oprit pilot report",
    "Where participants stand today",
    "Check-in prompts answered within 24 hours",
    "Alerts by severity, and minutes to acknowledge them",
    "Help requests by domain",
    "Referrals sent in the period, by partner type",
    "Messages per week",
    "Methods",
    "Protection",
    "registered: active",
    "week starting on Monday",
]
DUTCH = [
    "Oprit pilotrapport",
    "Waar deelnemers nu staan",
    "Meldingen naar ernst, en minuten tot ze opgepakt zijn",
    "Werkwijze",
    "Bescherming",
    "aangemeld: actief",
]


def test_the_report_is_in_the_default_language_unless_asked(
    cli: Any, sqlite_url: str, tmp_path: Path
) -> None:
    """No --language: OPRIT_DEFAULT_LANGUAGE (nl). Dutch headings in the HTML, the PDF
    and the CSV, no English title left, Dutch dates and numbers; the files keep their
    stable names."""
    asyncio.run(_seed(sqlite_url))
    out = tmp_path / "nl"
    code, stdout, stderr = cli("report", *PERIOD, "--out", str(out), "--json")
    assert code == 0, stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    text = _pdf_text(out / "report.pdf")
    squeezed = " ".join(text.split())  # a PDF line may break inside a heading
    for words in DUTCH:
        assert words in page, words
        assert words in squeezed, words
    assert not [words for words in ENGLISH if words in page]
    assert '<html lang="nl" dir="ltr">' in page and "2 maart 2026" in page
    assert "week die begint op maandag" in page  # the charts' axis
    with (out / "reach_status.csv").open(newline="") as status:
        rows = list(csv.reader(status))
    assert rows[0] == ["status", "deelnemers"] and rows[-1] == ["totaal", "30"]
    assert json.loads(stdout)["participants"] == 30
    shots = screenshot_dir(tmp_path / "shots")
    document = pypdfium2.PdfDocument(out / "report.pdf")
    for number in (1, len(document)):
        buffer = io.BytesIO()
        document[number - 1].render(scale=1.5).to_pil().save(buffer, format="PNG")
        assert_not_blank(buffer.getvalue())
        (shots / f"report-nl-page-{number}.png").write_bytes(buffer.getvalue())


@pytest.mark.parametrize("language", ["tr", "pl", "ar"])
def test_every_language_makes_a_whole_report(
    cli: Any, sqlite_url: str, tmp_path: Path, language: str
) -> None:
    """Each catalog's report is written whole: its own title, no English title left."""
    asyncio.run(_seed(sqlite_url))
    out = tmp_path / language
    code, _out, stderr = cli(
        "report", *PERIOD, "--out", str(out), "--format", "html,pdf", "--language", language
    )
    assert code == 0, stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not [words for words in ENGLISH if words in page]
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in page
    assert len(pypdfium2.PdfDocument(out / "report.pdf")) >= 4


@pytest.mark.parametrize("language", ["xx", "", "NL\u202e", "<b>", "nl" * 500])
def test_an_unknown_language_is_one_line_and_no_files(
    cli: Any, tmp_path: Path, language: str
) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = cli("report", *PERIOD, "--out", str(out), "--language", language)
    assert code == 1 and stdout == "" and stderr.count("\n") == 1
    assert stderr.startswith("oprit: --language:") and "is not one of" in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("cell", "language", "reads"),
    [
        (Cell(1234.5, 9), "nl", "1.234,5"),
        (Cell(1234.5, 9), "en", "1,234.5"),
        (Cell(1234.5, 9), None, "1234.5"),  # a CSV: plain for any program
        (Cell(50000, 50000), "nl", "50.000"),
        (Cell(50000, 50000), None, "50000"),
        (Cell(3, 3, hidden=PRIMARY), "nl", "<5"),
        (Cell(None, 0), "ar", "–"),
    ],
)
def test_numbers_read_as_the_language_writes_them(
    cell: Cell, language: str | None, reads: str
) -> None:
    assert cell_text(cell, language) == reads
