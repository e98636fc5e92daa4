"""The caseload: every participant the staff member may see, filtered, sorted, paged."""

from __future__ import annotations

from aiohttp import web

from bot.services import dashboard
from bot.web.render import Context, staff_page
from db.dashboard import FILTERS, SORTS


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 7 else 0


@staff_page
async def caseload(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/: the table."""
    query = ctx.request.query
    sort = query.get("sort", "attention")
    show = query.get("show", "all")
    language = query.get("language", "")
    search = query.get("q", "").replace("\x00", "")[:100]
    descending = query.get("desc") == "1"
    page = await dashboard.caseload(
        ctx.tx,
        ctx.staff,
        search=search,
        show=show,
        language=language if len(language) <= 8 else None,
        sort=sort,
        descending=descending,
        page=_int(query.get("page")),
    )
    return ctx.render(
        "caseload.html",
        page=page,
        sort=sort if sort in SORTS else "attention",
        show=show if show in FILTERS else "all",
        language=language,
        search=search,
        descending=descending,
        filters=FILTERS,
        live=None,
        mark=await dashboard.change_mark(ctx.tx, ctx.staff, None),
    )
