"""Pages from Jinja2 templates (autoescape on: every value is text, never markup) in the
staff member's language, with the helpers every page uses; and the per-request context:
the database transaction, the staff member read fresh, the CSRF token."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web
from babel.dates import format_timedelta

from bot.i18n import _, current_language, language_name, ngettext, timestamp, use_language
from bot.runtime import Runtime, Tx
from bot.services import labels, web_login
from bot.web import auth, plots
from db.models import Staff

RUNTIME = web.AppKey("runtime", Runtime)
ENVIRONMENT = web.AppKey("jinja", jinja2.Environment)
HTML = "text/html"
JUST_NOW = 60  # seconds
LIVE_HEADER = "X-Oprit-Live"  # sent by the page's own refreshes: they do not count as use


def environment() -> jinja2.Environment:
    """Templates from the package, escaped, with gettext and the labels as globals."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        _=_,
        ngettext=ngettext,
        labels=labels,
        plots=plots,
        language_name=lambda code: language_name(code, current_language()),
    )
    return env


@dataclass
class Context:
    """One request of a logged-in staff member."""

    request: web.Request
    tx: Tx
    staff: Staff
    session_token: str

    @property
    def runtime(self) -> Runtime:
        """The process's runtime."""
        return self.tx.runtime

    def render(self, template: str, status: int = 200, **values: Any) -> web.Response:
        """A page in the staff member's language."""
        return render(
            self.request,
            template,
            status=status,
            staff=self.staff,
            csrf=web_login.csrf_token(self.session_token),
            **values,
        )


def render(
    request: web.Request, template: str, *, status: int = 200, **values: Any
) -> web.Response:
    """Render a template (in the current language) to a response."""
    runtime = request.app[RUNTIME]
    zone, now = runtime.settings.tz, runtime.clock.now()
    language = current_language()

    def when(moment: datetime | None) -> str:
        return timestamp(moment, zone) if moment is not None else "—"

    def ago(moment: datetime | None) -> str:
        if moment is None:
            return "—"
        if abs((moment - now).total_seconds()) < JUST_NOW:
            # Translators: how long ago something happened, when it was less than a minute
            return _("just now")
        return format_timedelta(moment - now, add_direction=True, locale=language)

    page = (
        request.app[ENVIRONMENT]
        .get_template(template)
        .render(
            lang=language,
            now=now,
            when=when,
            ago=ago,
            staff=values.pop("staff", None),
            csrf=values.pop("csrf", ""),
            path=request.path,
            **values,
        )
    )
    response = web.Response(text=page, content_type=HTML, status=status)
    return response


Page = Callable[[Context], Awaitable[web.StreamResponse]]


def staff_page(handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A page for a logged-in staff member: no (or an ended) session goes to the login
    page, a state-changing request without this session's CSRF token gets 403, and the
    page renders in the staff member's language, in one transaction."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        runtime = request.app[RUNTIME]
        token = auth.session_token(request)
        async with runtime.sessions() as session, session.begin():
            tx = runtime.tx(session)
            polled = request.path.startswith("/dashboard/api/") or LIVE_HEADER in request.headers
            staff = (
                await web_login.staff_of(session, token, tx.now, active_use=not polled)
                if token
                else None
            )
            if staff is None:
                if request.method != "GET" or request.path.startswith("/dashboard/api/"):
                    raise web.HTTPUnauthorized(text="log in again")
                raise web.HTTPSeeOther("/dashboard/login")
            with use_language(staff.language):
                if request.method not in ("GET", "HEAD") and not web_login.csrf_ok(
                    token, await auth.given_csrf(request)
                ):
                    return render(request, "error.html", status=403, code=403, staff=staff)
                return await handler(Context(request, tx, staff, token))

    return wrapped


def not_found(ctx: Context) -> web.Response:
    """The same page for "no such participant" and "not yours"."""
    return ctx.render("error.html", status=404, code=404)


def local_path(value: object, fallback: str) -> str:
    """A redirect target from a form: only a path of the dashboard itself."""
    safe = (
        isinstance(value, str)
        and value.startswith("/dashboard/")
        and "//" not in value
        and "\\" not in value
        and all(ord(c) > 31 for c in value)
    )
    return value if safe and isinstance(value, str) else fallback


def see_other(location: str) -> web.Response:
    """A redirect after a form, returned (not raised) so the transaction commits."""
    return web.Response(status=303, headers={"Location": location})
