"""The web page of phones: one HTML file, a style sheet and a small script shipped in
bot/demo/static (no build step, nothing fetched from outside), and the files people sent
(photos, voice notes, documents) as the local Telegram keeps them."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from bot.demo.api import WORLD

STATIC = {
    "index.html": "text/html",
    "demo.css": "text/css",
    "demo.js": "text/javascript",
}
# Nothing on the page may load from elsewhere, and nothing may run but our own script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _static(name: str) -> bytes:
    return resources.files("bot.demo").joinpath("static", name).read_bytes()


async def index(request: web.Request) -> web.Response:
    """The page itself."""
    return web.Response(
        body=_static("index.html"), content_type="text/html", headers=SECURITY_HEADERS
    )


async def asset(request: web.Request) -> web.Response:
    """The style sheet and the script."""
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    return web.Response(body=_static(name), content_type=STATIC[name], headers=SECURITY_HEADERS)


async def sent_file(request: web.Request) -> web.Response:
    """A photo, voice note or document someone sent in a chat."""
    stored = request.app[WORLD].api.file_bytes(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    data, mime_type = stored
    headers = {**SECURITY_HEADERS, "Cache-Control": "max-age=3600"}
    if not mime_type.startswith(("image/", "audio/")):
        headers["Content-Disposition"] = "attachment"
        mime_type = "application/octet-stream"
    return web.Response(body=data, content_type=mime_type, headers=headers)


def add_routes(app: web.Application) -> None:
    """`/`, `/static/{name}` and `/files/{file_id}`."""
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", asset)
    app.router.add_get("/files/{file_id}", sent_file)
