"""Container HEALTHCHECK: GET /healthz on the port the container's `oprit` serves.

Which port depends on the command the container runs (read from PID 1's command line):
`oprit webhook` serves OPRIT_WEBHOOK_LISTEN, `oprit run` OPRIT_METRICS_LISTEN and
`oprit web` (the dashboard) OPRIT_WEB_LISTEN. Standard library only.
"""

import os
import sys
import urllib.request
from pathlib import Path

LISTEN_OF = {
    "webhook": "OPRIT_WEBHOOK_LISTEN",
    "run": "OPRIT_METRICS_LISTEN",
    "web": "OPRIT_WEB_LISTEN",
}


def listen_address(command_line: list[str], environ: dict[str, str]) -> str | None:
    """The `host:port` the command serves /healthz on, if any."""
    command = next((word for word in command_line[1:] if word in LISTEN_OF), None)
    return environ.get(LISTEN_OF[command]) if command else None


def main() -> int:
    """0 when /healthz answers 200 within four seconds, else 1."""
    command_line = Path("/proc/1/cmdline").read_bytes().decode(errors="replace").split("\0")
    listen = listen_address(command_line, dict(os.environ))
    if not listen or ":" not in listen:
        print("healthcheck: this oprit command serves no /healthz", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{listen.rsplit(':', 1)[1]}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as error:
        print(f"healthcheck: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
