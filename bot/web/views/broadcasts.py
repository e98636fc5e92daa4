"""Broadcasts (coordinators): the form (a text per language, who, when), the history with
live progress, and Cancel for a planned one. Officers get the 404 of anything not theirs."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.i18n import _, current_language
from bot.services import broadcasts as broadcasts_service
from bot.services import web_broadcasts
from bot.web.render import Context, not_found, see_other, staff_page

MAX_SHOWN = 4000  # a refused text comes back cut to this, so the page stays small


def status_label(status: str) -> str:
    """A broadcast's state as the coordinator reads it."""
    found = {
        # Translators: the state of a broadcast on the dashboard: not started yet
        "scheduled": _("planned"),
        # Translators: the state of a broadcast on the dashboard: messages going out
        "sending": _("sending"),
        # Translators: the state of a broadcast on the dashboard: every message went out
        "done": _("done"),
        # Translators: the state of a broadcast on the dashboard: called off before it started
        "cancelled": _("cancelled"),
    }
    return found.get(status, status)


def _moment(ctx: Context, when: str, at: str) -> tuple[datetime | None, str | None]:
    """The chosen moment (None: now), or why it cannot be read."""
    if when != "later":
        return None, None
    try:
        local = datetime.fromisoformat(at.strip()[:32])
    except ValueError:
        # Translators: on the dashboard's broadcast form, "later" was chosen without a moment
        return None, _("Choose a date and time.")
    zone = ctx.runtime.settings.tz
    return (local.replace(tzinfo=zone) if local.tzinfo is None else local), None


async def _show(ctx: Context, *, status: int = 200, **form: object) -> web.Response:
    page = await web_broadcasts.page(ctx.tx)
    values: dict[str, object] = {
        "texts": {},
        "cohort": "all",
        "timing": "now",
        "at": "",
        "problems": {},
        "notice": None,
        **form,
    }
    return ctx.render(
        "broadcasts.html",
        status=status,
        page=page,
        live="",
        live_url="/dashboard/api/broadcasts",
        mark=await web_broadcasts.mark(ctx.tx),
        broadcast_label=broadcasts_service.label(current_language()),
        broadcast_status=status_label,
        **values,
    )


@staff_page
async def broadcasts(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/broadcasts."""
    if not web_broadcasts.allowed(ctx.staff):
        return not_found(ctx)
    return await _show(ctx)


@staff_page
async def create(ctx: Context) -> web.StreamResponse:
    """POST the form: stored and on to the history, or the form again saying why not."""
    if not web_broadcasts.allowed(ctx.staff):
        return not_found(ctx)
    form = await ctx.request.post()
    default_language = ctx.runtime.settings.default_language
    texts = {
        language: value
        for language in web_broadcasts.languages(default_language)
        if isinstance(value := form.get(f"text-{language}"), str)
    }
    cohort = str(form.get("cohort") or "")[:40]
    when = "later" if form.get("when") == "later" else "now"
    at = str(form.get("at") or "")[:40]
    send_at, unreadable = _moment(ctx, when, at)
    problems = web_broadcasts.problems(texts, cohort, send_at, ctx.tx)
    if unreadable:
        problems["when"] = unreadable
    if problems:
        return await _show(
            ctx,
            status=400,
            texts={language: text[:MAX_SHOWN] for language, text in texts.items()},
            cohort=cohort,
            timing=when,
            at=at,
            problems=problems,
        )
    broadcast = await web_broadcasts.create(ctx.tx, ctx.staff, texts, cohort, send_at)
    return see_other(f"/dashboard/broadcasts#broadcast-{broadcast.id}")


@staff_page
async def cancel(ctx: Context) -> web.StreamResponse:
    """POST /dashboard/broadcasts/{id}/cancel."""
    value = ctx.request.match_info.get("id", "")
    if not web_broadcasts.allowed(ctx.staff) or not (value.isdigit() and len(value) < 12):
        return not_found(ctx)
    await web_broadcasts.cancel(ctx.tx, ctx.staff, int(value))
    return see_other(f"/dashboard/broadcasts#broadcast-{value}")


@staff_page
async def changes(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/api/broadcasts: what the open page polls."""
    if not web_broadcasts.allowed(ctx.staff):
        return web.json_response({"error": _("Not found")}, status=404)
    return web.json_response(
        {"mark": await web_broadcasts.mark(ctx.tx)}, headers={"Cache-Control": "no-store"}
    )
