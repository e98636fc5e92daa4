"""The Tasks page: plan tasks late or due within a week and referrals waiting on a partner,
across the staff member's caseload (everyone's for coordinators and backup officers)."""

from __future__ import annotations

from aiohttp import web

from bot.services import due, plan
from bot.services.access import officer_scope
from bot.web.render import Context, staff_page


@staff_page
async def tasks(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/tasks (audited, like every staff read across participants)."""
    today = plan.local_today(ctx.tx.now, ctx.tx.settings.tz)
    found = await due.due(ctx.tx.session, officer_scope(ctx.staff), today)
    due.audit_view(ctx.tx.session, ctx.staff, found, "web", ctx.tx.now)
    return ctx.render("tasks.html", found=found, due=due, title_of=plan.title_of)
