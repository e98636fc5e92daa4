"""One participant: the conversation (a page of it, with its media), check-ins plotted,
appointments, help requests, open alerts, the plan, and the actions (reply, acknowledge,
resolve, pause, resume, add an appointment, invite, export, mark a task done)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.i18n import _, day_label
from bot.services import conditions, dashboard, web_participant
from bot.web import media
from bot.web.plots import heat_map, mood_plot
from bot.web.render import Context, local_path, not_found, see_other, staff_page
from db.models import Participant


def _id(ctx: Context, name: str = "id") -> int | None:
    value = ctx.request.match_info.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def kind_label(kind: str) -> str:
    """What a message without text was, as staff read it."""
    return {
        # Translators: a message kind in the dashboard's timeline
        "photo": _("photo"),
        # Translators: a message kind in the dashboard's timeline
        "voice": _("voice message"),
        # Translators: a message kind in the dashboard's timeline
        "sticker": _("sticker"),
        # Translators: a message kind in the dashboard's timeline (a file, video or animation)
        "document": _("file"),
        # Translators: a message kind in the dashboard's timeline
        "location": _("location"),
    }.get(kind, _("other message"))


def owner_label(owner: str) -> str:
    """Who does a plan task, as staff read it."""
    if owner.startswith("partner"):
        # Translators: who does a plan task: a partner organisation
        return _("partner organisation")
    # Translators: who does a plan task: the participant or their officer
    return _("participant") if owner == "participant" else _("officer")


def _before(ctx: Context) -> int | None:
    value = ctx.request.query.get("before", "")
    return int(value) if value.isdigit() and len(value) < 12 else None


async def _show(
    ctx: Context, participant_id: int, *, status: int = 200, **extra: object
) -> web.StreamResponse:
    page = await dashboard.participant_page(ctx.tx, ctx.staff, participant_id, _before(ctx))
    if page is None:
        return not_found(ctx)
    defaults: dict[str, object] = {
        "notice": None,
        "draft": "",
        "appointment": web_participant.AppointmentForm(),
        "appointment_problems": {},
        "invite": None,
    }
    return ctx.render(
        "participant.html",
        status=status,
        page=page,
        mood=mood_plot(page.checkins),
        heat=heat_map(page.checkins, ctx.runtime.settings.tz, ctx.tx.now),
        highlight=dashboard.highlight,
        live=page.participant.id,
        mark=await dashboard.change_mark(ctx.tx, ctx.staff, page.participant.id),
        plan=await web_participant.plan_view(ctx.tx, page.participant),
        may_invite=web_participant.may_invite(page.participant),
        kind_label=kind_label,
        owner_label=owner_label,
        condition_kind=conditions.kind_label,
        day=day_label,
        **{**defaults, **extra},
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


async def _mine(ctx: Context) -> tuple[int, Participant] | None:
    participant_id = _id(ctx)
    if participant_id is None:
        return None
    found = await dashboard.visible_participant(ctx.tx, ctx.staff, participant_id)
    return (participant_id, found) if found is not None else None


def _field(form: object, name: str, limit: int = 4000) -> str:
    value = form.get(name) if hasattr(form, "get") else None
    return value[:limit] if isinstance(value, str) else ""


@staff_page
async def appointment(ctx: Context) -> web.StreamResponse:
    """POST a new appointment: planned and told, or the page again saying why not."""
    mine = await _mine(ctx)
    if mine is None:
        return not_found(ctx)
    participant_id, participant = mine
    form = await ctx.request.post()
    typed = web_participant.AppointmentForm(
        at=_field(form, "at", 40),
        with_org=_field(form, "with_org"),
        location=_field(form, "location"),
        note=_field(form, "note"),
    )
    try:
        local = datetime.fromisoformat(typed.at.strip())
        zone = ctx.runtime.settings.tz
        moment: datetime | None = local.replace(tzinfo=zone) if local.tzinfo is None else local
    except ValueError:
        moment = None
    problems = web_participant.appointment_problems(typed, moment, ctx.tx)
    if problems or moment is None:
        return await _show(
            ctx, participant_id, status=400, appointment=typed, appointment_problems=problems
        )
    await web_participant.add_appointment(ctx.tx, ctx.staff, participant, typed, moment)
    return see_other(f"/dashboard/participants/{participant_id}#h-appt")


@staff_page
async def invite(ctx: Context) -> web.StreamResponse:
    """POST: a single-use invite link for someone not yet in the chat, shown once."""
    mine = await _mine(ctx)
    if mine is None:
        return not_found(ctx)
    participant_id, participant = mine
    made = await web_participant.invite(ctx.tx, ctx.staff, participant)
    if made is None:
        return await _show(ctx, participant_id, status=409)
    new, link = made
    return await _show(
        ctx, participant_id, invite={"link": link, "code": new.code, "expires_at": new.expires_at}
    )


@staff_page
async def export(ctx: Context) -> web.StreamResponse:
    """POST: the participant's export as a JSON file (audited, like `oprit export`)."""
    participant_id = _id(ctx)
    data = (
        await web_participant.export_bytes(ctx.tx, ctx.staff, participant_id)
        if participant_id is not None
        else None
    )
    if data is None:
        return not_found(ctx)
    return web.Response(
        body=data,
        content_type="application/json",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="oprit-export-{participant_id}.json"'
        },
    )


@staff_page
async def task_done(ctx: Context) -> web.StreamResponse:
    """POST /dashboard/participants/{id}/tasks/{task}/done."""
    mine = await _mine(ctx)
    task_id = _id(ctx, "task")
    if mine is None or task_id is None:
        return not_found(ctx)
    participant_id, participant = mine
    if not await web_participant.mark_done(ctx.tx, ctx.staff, participant, task_id):
        return not_found(ctx)
    return see_other(f"/dashboard/participants/{participant_id}#h-plan")


@staff_page
async def media_file(ctx: Context) -> web.StreamResponse:
    """GET /dashboard/participants/{id}/media/{message}: a photo shown in the page, any
    other file as a download; fetched from the channel when asked (404 when it cannot)."""
    participant_id, message_id = _id(ctx), _id(ctx, "message")
    message = (
        await web_participant.media_message(ctx.tx, ctx.staff, participant_id, message_id)
        if participant_id is not None and message_id is not None
        else None
    )
    if message is None or not message.media_file_id:
        return not_found(ctx)
    found = await media.fetch(ctx.runtime.settings, message.media_file_id)
    if found is None:
        return not_found(ctx)
    disposition = "inline" if found.inline else f'attachment; filename="oprit-{message_id}"'
    return web.Response(
        body=found.data,
        content_type=found.mime_type if found.inline else "application/octet-stream",
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
