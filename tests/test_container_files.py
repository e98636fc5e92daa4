"""The container route: Dockerfile, .dockerignore, compose.yaml and container/ (Caddy,
Prometheus, the health check), each read and checked against the code it runs. Where a
container runtime works, the image is built and run; elsewhere that test skips, saying why.
"""

from __future__ import annotations

import asyncio
import configparser
import importlib.util
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot import config
from bot.cli import build_parser
from bot.config import Settings
from bot.localtelegram import LocalTelegram
from tests.conftest import TEST_TOKEN
from tests.e2e.botprocess import free_port
from tests.postgres_server import ThrowawayPostgres
from tests.test_deploy_files import STAND_INS, caddy_walk, parse_caddyfile

ROOT = Path(__file__).resolve().parent.parent
CONTAINER = ROOT / "container"
DATA = "/var/lib/oprit/data"
SERVICES = {"postgres", "migrate", "worker-1", "worker-2", "web", "caddy", "prometheus"}
WORKERS = ("worker-1", "worker-2")
# The dashboard's command and setting come from another branch (`oprit web`); until it is
# merged they are the only names here that the code does not know yet.
DASHBOARD_COMMAND, DASHBOARD_LISTEN = "web", "OPRIT_WEB_LISTEN"
SECRET_WORDS = re.compile(r"TOKEN|SECRET|PASSWORD|DATABASE_URL|ENCRYPTION_KEY|WEBHOOK_URL")


def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def services() -> dict[str, dict[str, Any]]:
    return dict(compose()["services"])


def oprit_services() -> dict[str, dict[str, Any]]:
    """The services that run the image built from this repository."""
    return {name: s for name, s in services().items() if s.get("build") == "."}


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) per Dockerfile instruction, continuation lines joined."""
    source = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", source)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def final_stage() -> list[tuple[str, str]]:
    steps = dockerfile()
    last_from = max(i for i, (instruction, _) in enumerate(steps) if instruction == "FROM")
    return steps[last_from:]


def healthcheck_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", CONTAINER / "healthcheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def setting_names() -> set[str]:
    return {f"OPRIT_{name.upper()}" for name in Settings.model_fields}


def known_commands() -> set[str]:
    parser = build_parser()
    return set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


# --- the image -------------------------------------------------------------------------------


def test_dockerfile_builds_in_two_stages_on_slim_python() -> None:
    steps = dockerfile()
    stages = [args for instruction, args in steps if instruction == "FROM"]
    assert len(stages) >= 2 and stages[0].endswith(" AS build"), stages
    base = next(args for instruction, args in steps if instruction == "ARG")
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.1[1-9]-slim(-\w+)?", base), base
    installs = [args for instruction, args in steps if instruction == "RUN" and "pip" in args]
    assert any("--require-hashes --requirement requirements.lock" in run for run in installs)
    assert any("pip wheel --no-deps" in run for run in installs), "Oprit goes in as its wheel"
    # The run stage takes only the finished environment from the build stage.
    copies = [args for instruction, args in final_stage() if instruction == "COPY"]
    assert copies[0] == "--from=build /opt/oprit /opt/oprit"
    assert all(not c.startswith(("bot", "handlers", "db", ".")) for c in copies), copies


def test_image_runs_unprivileged_with_data_as_its_only_volume() -> None:
    stage = dict(final_stage())
    user = stage["USER"].split(":")[0]
    assert user not in {"0", "root"}
    assert f"--uid {user}" in stage["RUN"]
    assert json.loads(stage["VOLUME"]) == [DATA]
    assert stage["WORKDIR"] == DATA.rsplit("/", 1)[0], "data/ of the settings is the volume"
    assert json.loads(stage["ENTRYPOINT"]) == ["oprit"]
    assert json.loads(stage["CMD"]) == ["webhook"]
    assert "PYTHONDONTWRITEBYTECODE=1" in stage["ENV"], "a read-only root has no room for .pyc"


def test_image_has_a_healthcheck_on_healthz() -> None:
    stage = dict(final_stage())
    command = json.loads(stage["HEALTHCHECK"].split("CMD", 1)[1])
    assert command == ["python", "/opt/oprit/healthcheck.py"]
    assert "/healthz" in (CONTAINER / "healthcheck.py").read_text()
    listen = stage["ENV"]
    assert "OPRIT_WEBHOOK_LISTEN=0.0.0.0:8080" in listen
    assert "EXPOSE" in stage and stage["EXPOSE"] == "8080"


def test_healthcheck_asks_the_port_of_the_running_command() -> None:
    check = healthcheck_module()
    env = {
        "OPRIT_WEBHOOK_LISTEN": "0.0.0.0:8080",
        "OPRIT_METRICS_LISTEN": "127.0.0.1:8090",
        DASHBOARD_LISTEN: "0.0.0.0:8081",
    }
    entry = ["/opt/oprit/bin/python3", "/opt/oprit/bin/oprit"]
    assert check.listen_address([*entry, "webhook"], env) == "0.0.0.0:8080"
    assert check.listen_address([*entry, "run"], env) == "127.0.0.1:8090"
    assert check.listen_address([*entry, DASHBOARD_COMMAND], env) == "0.0.0.0:8081"
    assert check.listen_address([*entry, "db", "upgrade"], env) is None
    assert check.listen_address([*entry, "webhook"], {}) is None


def test_no_secret_is_built_into_the_image() -> None:
    for instruction, args in dockerfile():
        if instruction in {"ENV", "ARG", "LABEL"}:
            assert not SECRET_WORDS.search(args), f"{instruction} {args}"
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*", "the build context is an allow-list"
    allowed = [rule.removeprefix("!") for rule in rules if rule.startswith("!")]
    for forbidden in (".env", "secrets", "data", ".venv", ".git"):
        assert not any(rule.split("/")[0] == forbidden for rule in allowed), forbidden
    # Everything the Dockerfile copies from the context is allowed into it.
    for instruction, args in dockerfile():
        if instruction == "COPY" and not args.startswith("--from"):
            for source in shlex.split(args)[:-1]:
                assert any(
                    rule.rstrip("/") == source or rule.startswith(f"{source}/") for rule in allowed
                ), f"COPY {source} is not in .dockerignore's allow-list"


# --- compose.yaml ----------------------------------------------------------------------------


def test_compose_runs_the_municipality_stack() -> None:
    found = services()
    assert set(found) == SERVICES
    assert set(oprit_services()) == {"migrate", *WORKERS, "web"}
    assert [found[name]["command"] for name in WORKERS] == [["webhook"], ["webhook"]]
    assert found["migrate"]["command"] == ["db", "upgrade"]
    assert found["migrate"]["restart"] == "no"
    for name in (*WORKERS, "web"):
        after = found[name]["depends_on"]["migrate"]
        assert after == {"condition": "service_completed_successfully"}, name
    assert found["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert found["web"]["command"] == [DASHBOARD_COMMAND]
    assert found["web"]["environment"][DASHBOARD_LISTEN] == "0.0.0.0:8081"


def test_every_service_has_a_healthcheck() -> None:
    """Oprit's from the image's HEALTHCHECK, the others in compose.yaml."""
    for name, service in services().items():
        if name in oprit_services():
            assert "healthcheck" not in service, f"{name}: the image's healthcheck applies"
            continue
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD" and len(test) > 1, name


def test_oprit_containers_are_read_only_and_unprivileged() -> None:
    for name, service in oprit_services().items():
        assert service["read_only"] is True, name
        assert service["user"].split(":")[0] not in {"0", "root"}, name
        assert service["tmpfs"] == ["/tmp"], name
        assert service["volumes"] == [f"oprit-data:{DATA}"], name
        assert service["image"] == services()["worker-1"]["image"], "one image for all"


def test_compose_commands_and_settings_are_real() -> None:
    commands = known_commands()
    parser = build_parser()
    for name, service in oprit_services().items():
        command = service["command"]
        if command[0] == DASHBOARD_COMMAND and DASHBOARD_COMMAND not in commands:
            continue  # see DASHBOARD_COMMAND
        parser.parse_args(command)
        for variable in service.get("environment", {}):
            assert variable in setting_names() | {DASHBOARD_LISTEN}, f"{name}: {variable}"
    settings = {name.lower() for name in setting_names()}
    for secret in compose()["secrets"]:
        assert secret in settings or secret == "db_password", secret


def test_compose_holds_no_secrets() -> None:
    document = compose()
    for name, service in services().items():
        for variable, value in (service.get("environment") or {}).items():
            if SECRET_WORDS.search(variable):
                assert variable.endswith("_FILE") and value.startswith("/run/secrets/"), name
    for name, secret in document["secrets"].items():
        assert secret == {"file": f"./secrets/{name}"}, name
    source = (ROOT / "compose.yaml").read_text()
    assert not re.search(r"\b\d{6,}:[A-Za-z0-9_-]{30,}", source), "a bot token?"
    assert not re.search(r"\b[0-9a-f]{32,}\b", source), "a secret?"
    assert not re.search(r"://[^/\s:]+:[^@\s]+@", source), "a password in a URL?"
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/secrets/" in ignored and ".env" in ignored


def test_only_caddy_is_published() -> None:
    for name, service in services().items():
        for port in service.get("ports", []):
            if name != "caddy":
                assert port.startswith("127.0.0.1:"), f"{name} publishes {port}"
    assert services()["caddy"]["ports"] == ["80:80", "443:443"]
    assert "ports" not in services()["postgres"]


def test_settings_read_container_secret_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file per setting in /run/secrets; the environment wins over it."""
    for variable in [v for v in os.environ if v.startswith("OPRIT_")]:
        monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path)  # no .env here
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "oprit_bot_token").write_text(STAND_INS["REPLACE_WITH_BOT_TOKEN"] + "\n")
    url = "postgresql+asyncpg://oprit:pw@postgres:5432/oprit"
    (secrets / "oprit_database_url").write_text(url)
    monkeypatch.setattr(config, "SECRETS_DIR", secrets)
    settings = config.load_settings()
    assert settings.bot_token == STAND_INS["REPLACE_WITH_BOT_TOKEN"]
    assert settings.database_url == url
    monkeypatch.setenv("OPRIT_BOT_TOKEN", "1:from-the-environment")
    assert config.load_settings().bot_token == "1:from-the-environment"
    monkeypatch.setattr(config, "SECRETS_DIR", tmp_path / "absent")
    monkeypatch.delenv("OPRIT_BOT_TOKEN")
    assert config.load_settings().bot_token is None


# --- Caddy and Prometheus in the stack -------------------------------------------------------


def test_caddy_forwards_only_the_webhook_to_both_workers() -> None:
    top = parse_caddyfile((CONTAINER / "Caddyfile").read_text())
    assert [site.tokens for site in top[1:]] == [["{$DOMAIN}"]]
    proxies = [b for b, _ in caddy_walk(top) if b.tokens[:1] == ["reverse_proxy"]]
    assert len(proxies) == 1
    assert proxies[0].tokens[1:] == [f"{name}:8080" for name in WORKERS]
    assert not any(block.tokens[:1] == ["log"] for block, _ in caddy_walk(top))
    assert compose()["services"]["caddy"]["volumes"][0].startswith("./container/Caddyfile:")


def test_caddy_accepts_the_container_caddyfile(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt install caddy); the file was not run")
    path = str(CONTAINER / "Caddyfile")
    env = {"DOMAIN": "bot.example.nl", "ACME_EMAIL": "admin@example.nl", "PATH": "/usr/bin:/bin"}
    adapted = subprocess.run(
        [caddy, "adapt", "--config", path, "--adapter", "caddyfile", "--validate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert adapted.returncode == 0, adapted.stderr
    formatted = subprocess.run([caddy, "fmt", path], capture_output=True, text=True, check=True)
    assert formatted.stdout == (CONTAINER / "Caddyfile").read_text()


def test_prometheus_scrapes_both_workers(tmp_path: Path) -> None:
    source = (CONTAINER / "prometheus.yml").read_text()
    prometheus = yaml.safe_load(source)
    (job,) = prometheus["scrape_configs"]
    targets = [t for group in job["static_configs"] for t in group["targets"]]
    assert job["metrics_path"] == "/metrics" and targets == [f"{w}:8080" for w in WORKERS]
    mounts = compose()["services"]["prometheus"]["volumes"]
    rules_mount = next(m for m in mounts if "rules" in m)
    rules_source, rules_target = rules_mount.split(":")[:2]
    assert prometheus["rule_files"] == [rules_target]
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt install prometheus); the file was not run")
    rules = ROOT / rules_source
    checked = tmp_path / "prometheus.yml"
    checked.write_text(source.replace(rules_target, str(rules)))
    result = subprocess.run(
        [promtool, "check", "config", str(checked)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- with a container runtime ----------------------------------------------------------------
# Docker where its daemon answers, else rootful podman (what `.ci/run` installs). Registries
# of images may be out of reach (CI reaches only Debian, PyPI and npm): the base image is
# then a stand-in made from Debian's packages (container/debian-python-base), and only the
# Dockerfile's PYTHON_IMAGE argument changes. Caddy, Prometheus and PostgreSQL's images
# cannot be had that way, so the compose stack itself is not started here.

STAND_IN = "localhost/oprit-python:3.11-bookworm"
WEBHOOK_SECRET = "container-test-secret-0123456789"
WEBHOOK_URL = "https://bot.example.nl/telegram/hook-0123456789abcdef"
PERSON = 6_300_017


@dataclass(frozen=True)
class Runtime:
    """A container command that works on this machine, and what building with it needs."""

    name: str
    env: dict[str, str]
    build_options: tuple[str, ...]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.name, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, timeout: float = 300) -> str:
        """stdout of a command that must succeed."""
        result = self.run(*args, timeout=timeout)
        assert result.returncode == 0, f"{self.name} {' '.join(args)}:\n{result.stderr[-3000:]}"
        return result.stdout


def unavailable(reason: str) -> NoReturn:
    """Skip, saying why; fail instead where containers are required (CI: .ci/run)."""
    if os.environ.get("OPRIT_TEST_REQUIRE_CONTAINERS"):
        pytest.fail(f"OPRIT_TEST_REQUIRE_CONTAINERS is set, but {reason}")
    pytest.skip(reason)


def podman_config(directory: Path) -> Path:
    """containers.conf for rootful podman where its defaults cannot start a container.

    Without CAP_SYS_RESOURCE (as in this sandbox) podman cannot give containers its default
    open-file and process limits: they get this process's own hard limits instead, processes
    at most 32,768 (podman lowers its own limit to that when it starts). crun 1.8 (Debian
    bookworm) refuses hybrid cgroups (v1 controllers beside a v2 mount): runc is used when
    it is installed.
    """
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    processes = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32_768)
    lines = [
        "[containers]",
        f'default_ulimits = ["nofile={files}:{files}", "nproc={processes}:{processes}"]',
    ]
    if shutil.which("runc"):
        lines += ["[engine]", 'runtime = "runc"']
    path = directory / "containers.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


def pip_trust_options(directory: Path) -> tuple[str, ...]:
    """The CA bundle the host's pip trusts, lent to pip in the build (podman only).

    Where the host's pip names a bundle, or the host added CAs of its own to the system's,
    TLS to PyPI may pass a proxy with its own CA (this sandbox): the build would fail
    without it. Both files are mounted for the RUN steps only: the image keeps its own
    bundle and, of the pip.conf, an empty mount point.
    """
    cert = os.environ.get("PIP_CERT")
    if not cert:
        parser = configparser.ConfigParser()
        parser.read(["/etc/pip.conf", Path.home() / ".config/pip/pip.conf"])
        cert = parser.get("global", "cert", fallback=None)
    if not cert and any(Path("/usr/local/share/ca-certificates").glob("**/*.crt")):
        cert = "/etc/ssl/certs/ca-certificates.crt"
    if not cert or not Path(cert).is_file():
        return ()
    conf = directory / "pip.conf"
    conf.write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    return (
        "--volume",
        f"{cert}:/etc/ssl/certs/ca-certificates.crt:ro",
        "--volume",
        f"{conf}:/etc/pip.conf:ro",
    )


def container_runtime(directory: Path) -> Runtime:
    """Docker when its daemon answers, else podman when it runs containers; else skip
    naming why each one failed."""
    reasons = []
    for name in ("docker", "podman"):
        if shutil.which(name) is None:
            reasons.append(f"{name} is not installed")
            continue
        env = dict(os.environ)
        options: tuple[str, ...] = ()
        if name == "podman":
            env["CONTAINERS_CONF"] = str(podman_config(directory))
            options = ("--format", "docker", *pip_trust_options(directory))
        runtime = Runtime(name, env, options)
        probe = runtime.run("info", timeout=60)
        if probe.returncode == 0:
            return runtime
        last = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        reasons.append(f"{name} info failed ({last})")
    unavailable("no usable container runtime: " + "; ".join(reasons))


def base_image_options(runtime: Runtime) -> tuple[str, ...]:
    """Nothing when the Dockerfile's base image is here or can be pulled; else the
    stand-in built from Debian's packages (skip when that cannot be built either)."""
    base = next(args for instruction, args in dockerfile() if instruction == "ARG")
    wanted = base.split("=", 1)[1]
    if runtime.run("image", "inspect", wanted).returncode == 0:
        return ()
    pulled = runtime.run("pull", wanted, timeout=600)
    if pulled.returncode == 0:
        return ()
    if runtime.run("image", "inspect", STAND_IN).returncode != 0:
        if shutil.which("mmdebstrap") is None:
            why = (pulled.stderr.strip().splitlines() or ["no answer"])[-1]
            unavailable(
                f"cannot pull {wanted} ({why}) and mmdebstrap is not installed to make a "
                "stand-in from Debian's packages (apt install mmdebstrap)"
            )
        made = subprocess.run(
            [str(CONTAINER / "debian-python-base"), runtime.name, STAND_IN],
            env=runtime.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert made.returncode == 0, made.stderr[-3000:]
    python = runtime.ok("run", "--rm", STAND_IN, "python", "--version").split()[1]
    assert wanted.startswith(f"python:{python.rsplit('.', 1)[0]}-"), (wanted, python)
    return ("--build-arg", f"PYTHON_IMAGE={STAND_IN}")


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, str]]:
    """The repository's Dockerfile built once for this module's tests."""
    runtime = container_runtime(tmp_path_factory.mktemp("runtime"))
    tag = f"localhost/oprit:test-{os.getpid()}"
    options = (*runtime.build_options, *base_image_options(runtime))
    runtime.ok("build", *options, "--tag", tag, str(ROOT), timeout=1800)
    yield runtime, tag
    runtime.run("image", "rm", "--force", tag)


@pytest.fixture
def volume(image: tuple[Runtime, str], tmp_path: Path) -> Iterator[str]:
    """A fresh named volume for data/, removed afterwards."""
    runtime, _ = image
    name = f"oprit-test-{os.getpid()}-{tmp_path.name.lower()}"
    yield name
    runtime.run("volume", "rm", "--force", name)


def locked_down(volume: str) -> list[str]:
    """`run` options as compose.yaml gives the Oprit services."""
    return [
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--user",
        "10001:10001",
        "--volume",
        f"{volume}:{DATA}",
    ]


@pytest.mark.slow
def test_the_image_migrates_and_serves_with_a_read_only_root(
    image: tuple[Runtime, str], volume: str, tmp_path: Path, postgres_server: ThrowawayPostgres
) -> None:
    """One test, so that pytest-xdist builds the image once: a pilot on SQLite, then the
    workers of compose.yaml on PostgreSQL (the throwaway server, not the postgres image)."""
    runtime, tag = image
    check_migrations(runtime, tag, volume)
    database_url = postgres_server.create_database()
    try:
        check_two_workers(runtime, tag, volume, tmp_path, database_url)
    finally:
        postgres_server.drop_database(database_url.rsplit("/", 1)[1])


def check_migrations(runtime: Runtime, tag: str, volume: str) -> None:
    """`db upgrade` as compose's migrate service runs it; the user and the key file."""
    upgraded = runtime.run("run", "--rm", *locked_down(volume), tag, "db", "upgrade", "--json")
    assert upgraded.returncode == 0, upgraded.stderr[-3000:]
    assert json.loads(upgraded.stdout)["revision"]
    assert "Read-only file system" not in upgraded.stderr, upgraded.stderr[-3000:]
    current = json.loads(
        runtime.ok("run", "--rm", *locked_down(volume), tag, "db", "current", "--json")
    )
    assert current["up_to_date"] is True
    # The image's own user, without compose's `user:`; the key file is its alone.
    assert runtime.ok("run", "--rm", "--entrypoint", "id", tag, "-u").strip() == "10001"
    listing = runtime.ok(
        "run", "--rm", "--volume", f"{volume}:{DATA}", "--entrypoint", "ls", tag, "-ln", DATA
    )
    key = next(line.split() for line in listing.splitlines() if line.endswith("oprit.key"))
    assert key[0] == "-rw-------" and key[2:4] == ["10001", "10001"], listing
    written = runtime.run(
        "run", "--rm", *locked_down(volume), "--entrypoint", "touch", tag, "/opt/oprit/x"
    )
    assert written.returncode != 0 and "Read-only file system" in written.stderr


def secret_files(directory: Path, **values: str) -> list[str]:
    """One file per secret, owned by the container's user and readable by it alone (as
    docs/deploy.md makes them; readable by all when not run as root, which cannot give a
    file away), each mounted as compose mounts secrets."""
    options = []
    for name, value in values.items():
        path = directory / name
        path.write_text(value)
        if os.geteuid() == 0:
            os.chown(path, 10001, 10001)
        path.chmod(0o400 if os.geteuid() == 0 else 0o444)
        options += ["--volume", f"{path}:/run/secrets/{name}:ro"]
    return options


def wait_until_healthy(runtime: Runtime, container: str, port: int) -> None:
    """/healthz answers on the published port, then the image's HEALTHCHECK passes: run on
    demand under podman (no systemd here to time it), awaited under Docker."""
    deadline = time.monotonic() + 90
    while True:
        state = runtime.ok("inspect", "--format", "{{.State.Status}}", container).strip()
        assert state == "running", runtime.run("logs", container).stderr[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "no /healthz within 90 s"
        time.sleep(0.5)
    if runtime.name == "podman":
        checked = runtime.run("healthcheck", "run", container)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        return
    while (
        runtime.ok("inspect", "--format", "{{.State.Health.Status}}", container).strip()
        != "healthy"
    ):
        assert time.monotonic() < deadline + 60, "HEALTHCHECK never passed"
        time.sleep(1)


def check_two_workers(
    runtime: Runtime, tag: str, volume: str, tmp_path: Path, database_url: str
) -> None:
    """What compose runs before Caddy: `migrate`, then two workers (the default command) on
    one PostgreSQL database and one data volume, secrets from files, read-only root. Each
    passes its HEALTHCHECK and answers an update; the webhook is set from the secrets."""
    secrets = secret_files(
        tmp_path,
        oprit_bot_token=TEST_TOKEN,
        oprit_database_url=database_url,
        oprit_webhook_secret=WEBHOOK_SECRET,
        oprit_webhook_url=WEBHOOK_URL,
    )
    with LocalTelegram(token=TEST_TOKEN) as api:
        api_url = ("--env", f"OPRIT_TELEGRAM_API_URL={api.base_url}")
        migrate = ["run", "--rm", "--network", "host", *locked_down(volume), *secrets, *api_url]
        assert json.loads(runtime.ok(*migrate, tag, "db", "upgrade", "--json"))["revision"]
        workers = {f"oprit-test-{os.getpid()}-worker-{n}": free_port() for n in (1, 2)}
        try:
            for container, port in workers.items():
                runtime.ok(
                    "run", "--detach", "--name", container, "--network", "host",
                    *locked_down(volume), *secrets, *api_url,
                    "--env", f"OPRIT_WEBHOOK_LISTEN=127.0.0.1:{port}",
                    tag,
                )  # fmt: skip
            for number, (container, port) in enumerate(workers.items()):
                wait_until_healthy(runtime, container, port)
                assert api.webhook is not None
                assert api.webhook["url"] == WEBHOOK_URL
                assert api.webhook["secret_token"] == WEBHOOK_SECRET
                hook = f"http://127.0.0.1:{port}/telegram/hook-0123456789abcdef"
                person = PERSON + number
                assert post_update(hook, person, None) == 403
                api.open_chat(person)
                assert post_update(hook, person, WEBHOOK_SECRET) == 200
                deadline = time.monotonic() + 30
                while not [c for c in api.calls("sendMessage") if c.ok and c.chat_id == person]:
                    assert time.monotonic() < deadline, f"no reply through {container}"
                    time.sleep(0.2)
        finally:
            logs = [runtime.run("logs", container) for container in workers]
            runtime.run("rm", "--force", *workers)
        api.assert_no_violations()
    for log in logs:
        assert "Traceback" not in log.stdout + log.stderr, (log.stdout + log.stderr)[-3000:]
    assert inbox_ids(database_url) == [PERSON, PERSON + 1], "stored in PostgreSQL, not SQLite"


def inbox_ids(database_url: str) -> list[int]:
    """The update ids in the inbox of a PostgreSQL database."""

    async def read() -> list[int]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(text("SELECT update_id FROM inbox ORDER BY 1"))
                return [int(row[0]) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def post_update(url: str, person: int, secret: str | None) -> int:
    """POST a /start from `person` to the webhook; the HTTP status."""
    update = {
        "update_id": person,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "text": "/start",
            "chat": {"id": person, "type": "private", "first_name": "Robin"},
            "from": {"id": person, "is_bot": False, "first_name": "Robin"},
        },
    }
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
