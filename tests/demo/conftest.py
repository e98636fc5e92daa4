"""`oprit demo` as a real process (the way `make run` starts it without a token), driven
through its JSON control API over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.botprocess import OPRIT, free_port

START_SECONDS = 90.0


@dataclass
class RunningDemo:
    """A started demo: its address, its process and its output."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def request(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        """One call of the control API: (status, parsed JSON body)."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, _decoded(response.read(), response.headers)
        except urllib.error.HTTPError as error:
            return error.code, _decoded(error.read(), error.headers)

    def get(self, path: str) -> Any:
        """GET that must succeed."""
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body

    def chat_id(self, kind: str, language: str | None = None) -> int:
        """The first chat of a kind (and language)."""
        for chat in self.get("/api/chats"):
            if chat["kind"] == kind and language in (None, chat["language"]):
                return int(chat["id"])
        raise AssertionError(f"no {kind} chat ({language})")

    def wait_message(
        self,
        chat_id: int,
        found: Callable[[dict[str, Any]], bool],
        after: int = 0,
        timeout: float = 10,
    ) -> dict[str, Any]:
        """The first message after `after` for which `found` is true, within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.get(f"/api/chats/{chat_id}/messages?after={after}"):
                if found(message):
                    return message
            if time.monotonic() > deadline:
                seen = [m["text"][:60] for m in self.get(f"/api/chats/{chat_id}/messages")]
                raise AssertionError(f"no such message in chat {chat_id} within {timeout}s: {seen}")
            time.sleep(0.1)

    def last_id(self, chat_id: int) -> int:
        """The newest message id in a chat (0 for none)."""
        messages = self.get(f"/api/chats/{chat_id}/messages")
        return int(messages[-1]["id"]) if messages else 0


def _decoded(payload: bytes, headers: Any) -> Any:
    """JSON parsed, anything else as bytes."""
    if headers.get_content_type() == "application/json":
        return json.loads(payload or b"null")
    return payload


def demo_env() -> dict[str, str]:
    """No OPRIT_ settings from the developer's shell (no token: the demo needs none)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPRIT_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def start_demo(workdir: Path, command: tuple[str, ...] = ("demo",)) -> RunningDemo:
    """`oprit demo` in `workdir`, returned once its invented data is in place."""
    port = free_port()
    log = workdir / "demo.log"
    process = subprocess.Popen(
        [*OPRIT, *command, "--listen", f"127.0.0.1:{port}"],
        cwd=workdir,
        env=demo_env(),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    demo = RunningDemo(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"oprit demo exited {process.returncode}: {log.read_text()}")
        try:
            status, body = demo.request("GET", "/api/status")
            if status == 200 and body["ready"]:
                return demo
        except OSError:
            pass
        time.sleep(0.2)
    stop_demo(demo)
    raise AssertionError(f"oprit demo not ready in {START_SECONDS}s: {log.read_text()}")


def stop_demo(demo: RunningDemo, timeout: float = 45) -> int:
    """Ctrl-C, as a person at the terminal stops it; returns the exit code. (Sends under
    way get up to 10 s to finish, longer on a busy machine.)"""
    if demo.process.poll() is None:
        demo.process.send_signal(signal.SIGINT)
        try:
            demo.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            demo.process.kill()
            demo.process.wait()
            raise AssertionError("oprit demo did not stop on SIGINT") from None
    return int(demo.process.returncode)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """One demo for the tests of a module (making the invented data takes seconds)."""
    running = start_demo(tmp_path_factory.mktemp("demo"))
    try:
        yield running
    finally:
        stop_demo(running)
        errors = [line for line in running.log.read_text().splitlines() if "Traceback" in line]
        assert not errors, running.log.read_text()
