"""`pip install` of the built wheel, in a fresh virtual environment away from the checkout,
is a working Oprit: the schema is made, triage answers, and a participant signs up over
the fake Bot API in their language.

Slow (about half a minute): the wheel is built from a copy of only what the build reads, so
a file the wheel forgets cannot be found in the checkout instead. The locked dependencies
come from a wheelhouse kept in the development environment (`.venv/wheelhouse`, filled
from the registry the first time) so later runs need no network for them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.localtelegram import LocalTelegram
from db.migrate import head
from tests.e2e.botprocess import bot_env, oprit, oprit_json, running_bot
from tests.e2e.conversation import TelegramUser

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "bot", "handlers", "db")
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"


def run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def source_copy(target: Path) -> Path:
    """The files a build may read, without compiled catalogs or caches."""
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.mo", "*.egg-info")
    for name in BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    shutil.copytree(ROOT / "locales", target / "locales", ignore=ignore)
    return target


def install_locked_dependencies(python: Path) -> None:
    """requirements.lock, hash-checked, from the wheelhouse (filled when something is missing)."""
    lock = ROOT / "requirements.lock"
    offline = [python, "-m", "pip", "install", "--quiet", "--require-hashes", "--no-index"]
    offline += ["--find-links", WHEELHOUSE, "--requirement", lock]
    if subprocess.run(offline, capture_output=True, check=False).returncode != 0:
        run(sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes",
            "--dest", WHEELHOUSE, "--requirement", lock)  # fmt: skip
        run(*offline)


def test_the_installed_wheel_runs_without_the_source(api: LocalTelegram, tmp_path: Path) -> None:
    started = time.monotonic()
    source = source_copy(tmp_path / "source")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
        "--wheel-dir", tmp_path / "dist", source)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("oprit-*.whl")
    shutil.rmtree(source)
    built = time.monotonic()

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    install_locked_dependencies(python)
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel)
    run(python, "-m", "pip", "check")  # the lock holds everything the wheel asks for
    installed = time.monotonic()
    print(f"wheel built in {built - started:.1f}s, installed in {installed - built:.1f}s")

    workdir = tmp_path / "work"
    workdir.mkdir()
    env = bot_env(api.base_url, workdir)
    del env["PYTHONPATH"]  # nothing of the checkout
    command = [str(venv / "bin" / "oprit")]
    located = run(python, "-c", "import bot, db; print(bot.__file__, db.__file__)", cwd=workdir)
    assert all(path.startswith(str(venv)) for path in located.split()), located

    assert oprit_json(env, workdir, "db", "upgrade", command=command) == {"revision": head()}
    lines = [{"text": "ik wil dood", "lang": "nl"}, {"text": "tot morgen", "lang": "nl"}]
    verdicts = oprit(env, workdir, "triage", stdin="\n".join(map(json.dumps, lines)),
                     command=command)  # fmt: skip
    assert verdicts.returncode == 0, verdicts.stderr
    flagged = [json.loads(line)["flagged"] for line in verdicts.stdout.splitlines()]
    assert flagged == [True, False]

    officer_id = 6_100_001
    oprit_json(env, workdir, "staff", "add", "--telegram-id", str(officer_id), "--role",
               "officer", "--name", "Officer Test", command=command)  # fmt: skip
    invite = oprit_json(env, workdir, "invite", "create", "--officer", str(officer_id),
                        "--name", "Test Deelnemer", command=command)  # fmt: skip
    with running_bot(env, workdir, command=command) as process:
        sam = TelegramUser(api, 7_100_001, first_name="Sam", language_code="nl")
        sam.send(f"/start {invite['code']}")
        sam.wait_reply(containing="Oprit", timeout=30)  # includes the start of a cold venv
        sam.press("Türkçe")
        sam.wait_reply()
        sam.press("Kabul ediyorum")  # the Turkish catalog, compiled into the wheel
        welcome = sam.wait_reply()
        assert "all set" not in welcome
        assert len(sam.keyboard()) == 5  # check-in, help, appointments, plan, language
        assert process.poll() is None
    (participant,) = oprit_json(env, workdir, "participants", "list", command=command)
    assert (participant["language"], participant["status"]) == ("tr", "active")
