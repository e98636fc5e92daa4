"""The browser fixture itself works: a local page renders and is not blank."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.browser import assert_not_blank

PAGE = (
    "<!doctype html><html><body style='font:20px sans-serif'>"
    "<p dir='rtl' id='ar'>مرحبا بك</p><p style='background:#246;color:#fff'>Hallo 👋</p>"
    "</body></html>"
).encode()


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: Any) -> None:
        return


def test_a_local_page_renders_right_to_left_and_not_blank(page: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_port}/")
        assert page.eval_on_selector("#ar", "e => getComputedStyle(e).direction") == "rtl"
        assert_not_blank(page.screenshot())
    finally:
        server.shutdown()
