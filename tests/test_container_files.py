"""The container route: Dockerfile, .dockerignore, compose.yaml and container/ (Caddy,
Prometheus, the health check), each read and checked against the code it runs. Where a
container runtime works, the image is built and run; elsewhere that test skips, saying why.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from bot import config
from bot.cli import build_parser
from bot.config import Settings
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


def container_runtime() -> str:
    """The docker command when its daemon answers, else skip naming the reason."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no container runtime: docker is not installed")
    info = subprocess.run(
        [docker, "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        pytest.skip(f"no usable container runtime: docker info failed ({reason})")
    return docker


@pytest.mark.slow
def test_the_image_builds_and_migrates_with_a_read_only_root(tmp_path: Path) -> None:
    docker = container_runtime()
    tag = f"oprit:test-{tmp_path.name.lower()}"

    def run(*args: str, timeout: float = 900) -> str:
        result = subprocess.run(
            [docker, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("build", "--tag", tag, str(ROOT))
    volume = f"oprit-test-{tmp_path.name.lower()}"
    try:
        base = ["run", "--rm", "--read-only", "--tmpfs", "/tmp", "--volume", f"{volume}:{DATA}"]
        upgraded = json.loads(run(*base, tag, "db", "upgrade", "--json"))
        assert upgraded["revision"]
        current = json.loads(run(*base, tag, "db", "current", "--json"))
        assert current["up_to_date"] is True
        user = run("run", "--rm", "--entrypoint", "id", tag, "-u").strip()
        assert user != "0"
    finally:
        subprocess.run([docker, "volume", "rm", "-f", volume], capture_output=True, check=False)
        subprocess.run([docker, "image", "rm", "-f", tag], capture_output=True, check=False)
