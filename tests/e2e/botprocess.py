"""Start `oprit` as a real process (the way the README says) against the local Telegram."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import TEST_TOKEN

OPRIT = [sys.executable, "-m", "bot"]


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_env(api_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: only what Oprit needs, nothing from the developer's shell."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPRIT_")}
    env.update(
        {
            "OPRIT_BOT_TOKEN": TEST_TOKEN,
            "OPRIT_TELEGRAM_API_URL": api_url,
            "OPRIT_SCHEDULER_TICK": "1s",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
    )
    env.update(extra)
    return env


def oprit(
    env: dict[str, str],
    cwd: Path,
    *args: str,
    stdin: str | None = None,
    timeout: float = 60,
    command: Sequence[str] = OPRIT,
) -> subprocess.CompletedProcess[str]:
    """Run one CLI command and capture its output (`command`: another `oprit`, e.g. an
    installed wheel's)."""
    return subprocess.run(
        [*command, *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def oprit_json(env: dict[str, str], cwd: Path, *args: str, command: Sequence[str] = OPRIT) -> Any:
    """Run a CLI command with --json and parse its one JSON document."""
    result = oprit(env, cwd, *args, "--json", command=command)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@contextmanager
def running_bot(
    env: dict[str, str], cwd: Path, log: Path | None = None, command: Sequence[str] = OPRIT
) -> Iterator[subprocess.Popen[bytes]]:
    """`oprit run` in the background; stopped with SIGTERM (or killed) afterwards."""
    log_path = log or cwd / "bot.log"
    log_file = log_path.open("ab")
    process = subprocess.Popen(
        [*command, "run"], env=env, cwd=cwd, stdout=log_file, stderr=log_file
    )
    try:
        yield process
    except BaseException:
        log_file.flush()
        tail = log_path.read_text(errors="replace").splitlines()[-40:]
        state = "running" if process.poll() is None else f"exited with {process.returncode}"
        print(f"the bot ({state}) logged last:", *tail, sep="\n")  # shown with the failure
        raise
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log_file.close()
        assert_log_is_clean(log_path.read_text(errors="replace"))


def assert_log_is_clean(text: str) -> None:
    """The process's log names ids only: no token, names or message text."""
    from tests.conftest import NEVER_LOGGED

    leaked = [word for word in NEVER_LOGGED if word.lower() in text.lower()]
    assert not leaked, f"the bot's log leaks {leaked}"
