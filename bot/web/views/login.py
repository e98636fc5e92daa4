"""Logging in with a one-time link, and out.

Opening the link shows a button; only pressing it (a POST) uses the link. Link previews
(Telegram fetches a link to show a preview) and virus scanners open links with GET, so a
GET that used the link would log them in instead of the staff member."""

from __future__ import annotations

from aiohttp import web

from bot.i18n import normalise_language, use_language
from bot.services import web_login
from bot.web import auth
from bot.web.render import RUNTIME, Context, render, see_other, staff_page


def _language(request: web.Request) -> str:
    settings = request.app[RUNTIME].settings
    wanted = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return normalise_language(wanted, settings.default_language)


async def login_help(request: web.Request) -> web.Response:
    """Without a session: how to get a login link."""
    with use_language(_language(request)):
        return render(request, "login.html", state="help", status=200)


async def login_form(request: web.Request) -> web.Response:
    """The link's page: one button that logs in."""
    with use_language(_language(request)):
        return render(request, "login.html", state="confirm", token=request.match_info["token"])


async def login(request: web.Request) -> web.StreamResponse:
    """Use the link: a session cookie and on to the caseload, or a refusal."""
    runtime = request.app[RUNTIME]
    origin = request.headers.get("Origin")
    if origin not in (None, "null") and origin.split("://", 1)[-1] != request.host:
        raise web.HTTPForbidden(text="cross-site login refused")
    async with runtime.sessions() as session, session.begin():
        token = await web_login.redeem(session, request.match_info["token"], runtime.clock.now())
    if token is None:
        with use_language(_language(request)):
            return render(request, "login.html", state="refused", status=403)
    response = see_other("/dashboard/")
    auth.set_session_cookie(response, request, runtime.settings, token)
    return response


@staff_page
async def logout(ctx: Context) -> web.StreamResponse:
    """End the session here and in the database."""
    await web_login.logout(ctx.tx.session, ctx.session_token, ctx.tx.now)
    response = see_other("/dashboard/login")
    auth.clear_session_cookie(response)
    return response
