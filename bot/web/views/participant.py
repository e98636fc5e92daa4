"""One participant: the conversation, check-ins plotted, appointments, help requests, open
alerts, and the actions (reply, acknowledge, resolve, pause, resume)."""

from __future__ import annotations

from aiohttp import web

from bot.i18n import _
from bot.services import dashboard
from bot.web.plots import heat_map, mood_plot
from bot.web.render import Context, local_path, not_found, see_other, staff_page


def _id(ctx: Context, name: str = "id") -> int | None:
    value = ctx.request.match_info.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


async def _show(
    ctx: Context, participant_id: int, *, status: int = 200, **extra: object
) -> web.StreamResponse:
    page = await dashboard.participant_page(ctx.tx, ctx.staff, participant_id)
    if page is None:
        return not_found(ctx)
    return ctx.render(
        "participant.html",
        status=status,
        page=page,
        mood=mood_plot(page.checkins),
        heat=heat_map(page.checkins, ctx.runtime.settings.tz, ctx.tx.now),
        highlight=dashboard.highlight,
        live=page.participant.id,
        mark=await dashboard.change_mark(ctx.tx, ctx.staff, page.participant.id),
        **{"notice": None, "draft": "", **extra},
    )


@staff_page
async def participant(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/participants/{id}."""
    participant_id = _id(ctx)
    if participant_id is None:
        return not_found(ctx)
    return await _show(ctx, participant_id)


@staff_page
async def reply(ctx: Context) -> web.StreamResponse:
    """POST a reply: queued in the outbox, or the page again saying why not."""
    participant_id = _id(ctx)
    if participant_id is None:
        return not_found(ctx)
    form = await ctx.request.post()
    text = form.get("text")
    text = text if isinstance(text, str) else ""
    outcome = await dashboard.reply(ctx.tx, ctx.staff, participant_id, text)
    if outcome is False:
        return not_found(ctx)
    if outcome is not None and outcome is not True:
        # The refusal says why; the draft stays (cut to the limit) so nothing typed is lost.
        return await _show(ctx, participant_id, status=400, notice=outcome.text, draft=text[:4000])
    return see_other(f"/dashboard/participants/{participant_id}#reply")


async def _pause(ctx: Context, paused: bool) -> web.StreamResponse:
    participant_id = _id(ctx)
    if (
        participant_id is None
        or await dashboard.visible_participant(ctx.tx, ctx.staff, participant_id) is None
    ):
        return not_found(ctx)
    await dashboard.set_paused(ctx.tx, ctx.staff, participant_id, paused)
    return see_other(f"/dashboard/participants/{participant_id}")


@staff_page
async def pause(ctx: Context) -> web.StreamResponse:
    """POST: no automatic messages for this participant."""
    return await _pause(ctx, True)


@staff_page
async def resume(ctx: Context) -> web.StreamResponse:
    """POST: automatic messages again."""
    return await _pause(ctx, False)


@staff_page
async def alert(ctx: Context) -> web.StreamResponse:
    """POST /dashboard/alerts/{id}/{ack|resolve}; back to the page it was pressed on."""
    alert_id = _id(ctx)
    action = ctx.request.match_info.get("action", "")
    done = (
        await dashboard.alert_action(ctx.tx, ctx.staff, alert_id, action)
        if alert_id is not None
        else None
    )
    if done is None:
        return not_found(ctx)
    form = await ctx.request.post()
    return see_other(local_path(form.get("next"), "/dashboard/alerts"))


@staff_page
async def changes(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/api/changes[?participant=ID]: what the open page polls."""
    value = ctx.request.query.get("participant", "")
    participant_id = int(value) if value.isdigit() and len(value) < 12 else None
    if value and participant_id is None:
        return web.json_response({"error": _("Not found")}, status=404)
    mark = await dashboard.change_mark(ctx.tx, ctx.staff, participant_id)
    if mark is None:
        return web.json_response({"error": _("Not found")}, status=404)
    return web.json_response({"mark": mark}, headers={"Cache-Control": "no-store"})
