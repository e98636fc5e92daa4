"""The team (coordinators): staff, roles, whether the bot reaches them, caseload sizes."""

from __future__ import annotations

from aiohttp import web

from bot.services import dashboard
from bot.web.render import Context, not_found, staff_page


@staff_page
async def team(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/team; officers get the same 404 as for anything not theirs."""
    rows = await dashboard.team(ctx.tx, ctx.staff)
    if rows is None:
        return not_found(ctx)
    return ctx.render("team.html", rows=rows)
