"""The alert queue across the caseload: severity, age, escalation timer, and the buttons."""

from __future__ import annotations

from aiohttp import web

from bot.services import dashboard
from bot.web.render import Context, staff_page


@staff_page
async def alerts(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/alerts."""
    queue = await dashboard.alert_queue(ctx.tx, ctx.staff)
    return ctx.render(
        "alerts.html",
        queue=queue,
        live=None,
        mark=await dashboard.change_mark(ctx.tx, ctx.staff, None),
    )
