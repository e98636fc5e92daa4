"""The pilot report for coordinators (issue 20): pick a period, read the report on the
page, download it as PDF, as a web page or as CSV tables. Every view is audited
(bot.report.make); officers get the same 404 as for anything not theirs."""

from __future__ import annotations

import asyncio
from datetime import date

from aiohttp import web

from bot import report
from bot.i18n import _, current_language
from bot.report.write import body, charts_of, csv_zip, html, pdf
from bot.web.render import Context, not_found, staff_page
from db.enums import Role

DOWNLOADS = {
    "pdf": ("application/pdf", "report.pdf"),
    "html": ("text/html", "report.html"),
    "csv": ("application/zip", "report-tables.zip"),
}


def _period(ctx: Context) -> tuple[date, date, str | None]:
    """The period asked for (default: this year to today), and what is wrong with it."""
    today = ctx.tx.now.astimezone(ctx.runtime.settings.tz).date()
    given = ctx.request.query
    try:
        first = date.fromisoformat(given["from"].strip()) if "from" in given else None
        last = date.fromisoformat(given["to"].strip()) if "to" in given else None
    except ValueError:
        return today.replace(month=1, day=1), today, _("Give both days as a date.")
    first, last = first or today.replace(month=1, day=1), last or today
    if last < first:
        return first, last, _("The first day must not be after the last day.")
    if (last - first).days >= report.MAX_DAYS:
        return first, last, _("Choose a period of at most five years.")
    return first, last, None


async def _make(ctx: Context, first: date, last: date, formats: list[str]) -> report.Report:
    settings = ctx.runtime.settings
    return await report.make(
        ctx.tx.session,
        first,
        last,
        zone=settings.tz,
        escalation=settings.escalation_after,
        now=ctx.tx.now,
        actor="web",
        language=current_language(),
        actor_telegram_id=ctx.staff.telegram_id,
        formats=formats,
    )


@staff_page
async def report_page(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/report: the form, and with ?from=&to= the report itself."""
    if ctx.staff.role != Role.COORDINATOR:
        return not_found(ctx)
    first, last, problem = _period(ctx)
    asked = "from" in ctx.request.query and problem is None
    made = await _make(ctx, first, last, ["page"]) if asked else None
    # Drawing is CPU work: off the event loop, so the dashboard keeps answering meanwhile.
    content = await asyncio.to_thread(_page_body, made) if made else None
    return ctx.render(
        "report.html",
        status=400 if problem else 200,
        first=first,
        last=last,
        problem=problem,
        made=made,
        content=content,
    )


def _page_body(made: report.Report) -> str:
    return body(made, charts_of(made), images=True)


def _file(made: report.Report, kind: str) -> bytes:
    if kind == "csv":
        return csv_zip(made)
    if kind == "pdf":
        return pdf(made, charts_of(made))
    return html(made, charts_of(made)).encode()


@staff_page
async def report_file(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/report/{format}?from=&to=: the report as a file to save."""
    kind = ctx.request.match_info["format"]
    first, last, problem = _period(ctx)
    if ctx.staff.role != Role.COORDINATOR or kind not in DOWNLOADS or problem:
        return not_found(ctx)
    made = await _make(ctx, first, last, [kind])
    data = await asyncio.to_thread(_file, made, kind)
    content_type, name = DOWNLOADS[kind]
    return web.Response(
        body=data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="oprit-{first}-{last}-{name}"'},
    )
