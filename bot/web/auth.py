"""Who is asking: the session cookie, read against the database on every request (so a
removed staff member's next request is refused), the CSRF check of every state-changing
request, and whether the browser talks to us over https (then the cookie is Secure)."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from bot.config import Settings

COOKIE = "oprit_session"
COOKIE_PATH = "/dashboard"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


def session_token(request: web.Request) -> str:
    """The session token the browser sent (empty: none)."""
    return request.cookies.get(COOKIE, "")


def _from_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def over_https(request: web.Request, settings: Settings) -> bool:
    """True when the browser reaches us over https: OPRIT_WEB_PUBLIC_URL says so, or the
    proxy on this machine (the only one whose X-Forwarded-Proto we trust) does."""
    if settings.web_public_url and settings.web_public_url.startswith("https://"):
        return True
    if request.secure:
        return True
    return _from_loopback(request) and request.headers.get("X-Forwarded-Proto") == "https"


def set_session_cookie(
    response: web.StreamResponse, request: web.Request, settings: Settings, token: str
) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure
    behind https; no Max-Age: the server ends idle sessions, the browser at its close."""
    response.set_cookie(
        COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=over_https(request, settings),
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    """Forget the cookie in the browser."""
    response.del_cookie(COOKIE, path=COOKIE_PATH)


async def given_csrf(request: web.Request) -> str | None:
    """The CSRF token a request carries: a header (scripts) or a form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None
