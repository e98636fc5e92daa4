"""Every file in deploy/, and docs/deploy.md that tells an administrator how to use them.

Each file is parsed and checked against the code it configures: the systemd units against
the `oprit` command line and `Settings`, the settings example against `Settings`, the
proxy configurations and the Prometheus files against the worker ports and the metrics
that bot/metrics.py exports. Where the real tool is installed and works (systemd-analyze,
bash, nginx, caddy, promtool) it checks the file too.
"""

from __future__ import annotations

import configparser
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.cli import EXIT_USAGE, build_parser
from bot.config import ListenAddress, Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
GUIDE = ROOT / "docs" / "deploy.md"

OPRIT = "/opt/oprit/.venv/bin/oprit"
ENV_FILE = "/etc/oprit/oprit.env"
DATA_DIR = "/var/lib/oprit"
SERVICE_USER = "oprit"
DOMAIN = "bot.example.nl"
WEBHOOK_PREFIX = "/telegram/"

# Every file in deploy/ and where the guide installs it.
INSTALLED = {
    "oprit.env.example": ENV_FILE,
    "oprit-admin": "/usr/local/bin/oprit-admin",
    "oprit-webhook@.service": "/etc/systemd/system/oprit-webhook@.service",
    "oprit-polling.service": "/etc/systemd/system/oprit-polling.service",
    "oprit-web.service": "/etc/systemd/system/oprit-web.service",
    "nginx-oprit.conf": "/etc/nginx/sites-available/oprit",
    "Caddyfile": "/etc/caddy/Caddyfile",
    "prometheus-oprit.yml": "/etc/prometheus/prometheus.yml",
    "prometheus-oprit-rules.yml": "/etc/prometheus/prometheus-oprit-rules.yml",
    "signal-cli.service": "/etc/systemd/system/signal-cli.service",
}
UNITS = {
    "oprit-webhook@.service": "webhook",
    "oprit-polling.service": "run",
    "oprit-web.service": "web",
}
DASHBOARD_PREFIX = "/dashboard/"

PLACEHOLDER = re.compile(r"REPLACE_WITH_[A-Z0-9_]+")
# What an administrator puts in place of each placeholder (the guide's commands).
STAND_INS = {
    "REPLACE_WITH_BOT_TOKEN": "123456789:" + "A" * 35,
    "REPLACE_WITH_DATABASE_PASSWORD": "2b" * 24,  # openssl rand -hex 24
    "REPLACE_WITH_RANDOM_PATH": "1a" * 16,  # openssl rand -hex 16
    "REPLACE_WITH_WEBHOOK_SECRET": "0f" * 32,  # openssl rand -hex 32
}
TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # setWebhook's secret_token
DURATION = re.compile(r"[0-9]+[smhd]")


def setting_names() -> set[str]:
    return {f"OPRIT_{name.upper()}" for name in Settings.model_fields}


def settings_from(values: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings exactly as the service would read them from its environment."""
    for name in list(os.environ):
        if name.startswith("OPRIT_"):
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def text(name: str) -> str:
    return (DEPLOY / name).read_text(encoding="utf-8")


# --- systemd units -----------------------------------------------------------------------


class _Repeated(dict[str, Any]):
    """Section storage for configparser that keeps every value of a repeated key:
    systemd allows Environment=, SystemCallFilter= and others several times."""

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, list) and isinstance(self.get(key), list):
            self[key].extend(value)
        else:
            super().__setitem__(key, value)


Unit = dict[str, dict[str, list[str]]]


def read_unit(name: str) -> Unit:
    parser = configparser.ConfigParser(
        strict=False,
        interpolation=None,
        delimiters=("=",),
        comment_prefixes=("#", ";"),
        empty_lines_in_values=False,
        dict_type=_Repeated,
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text(name), source=name)
    return {
        section: {key: value.split("\n") for key, value in parser[section].items()}
        for section in parser.sections()
    }


def one(unit: Unit, section: str, key: str) -> str:
    values = unit[section].get(key)
    assert values and len(values) == 1, f"[{section}] {key}= must be set exactly once: {values}"
    return values[0]


def unit_environment(unit: Unit) -> dict[str, str]:
    pairs = [item for line in unit["Service"].get("Environment", []) for item in shlex.split(line)]
    assert all("=" in pair for pair in pairs), pairs
    return dict(pair.split("=", 1) for pair in pairs)


def all_unit_environment() -> dict[str, str]:
    return {k: v for name in UNITS for k, v in unit_environment(read_unit(name)).items()}


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_sections_and_hardening(name: str) -> None:
    unit = read_unit(name)
    assert set(unit) == {"Unit", "Service", "Install"}
    assert one(unit, "Unit", "Description")
    assert "network-online.target" in one(unit, "Unit", "Wants").split()
    assert "network-online.target" in one(unit, "Unit", "After").split()
    assert one(unit, "Install", "WantedBy") == "multi-user.target"

    expected = {
        "Type": "simple",
        "User": SERVICE_USER,
        "Group": SERVICE_USER,
        "WorkingDirectory": DATA_DIR,
        "EnvironmentFile": ENV_FILE,
        "Restart": "on-failure",
        "RestartPreventExitStatus": str(EXIT_USAGE),  # a configuration mistake: stay down
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "UMask": "0077",
    }
    assert {key: one(unit, "Service", key) for key in expected} == expected
    # data/oprit.key (and the pilot's data/oprit.db) live under the working directory.
    assert DATA_DIR in one(unit, "Service", "ReadWritePaths").split()


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_starts_a_real_oprit_command(name: str) -> None:
    argv = shlex.split(one(read_unit(name), "Service", "ExecStart"))
    assert argv[0] == OPRIT
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[Path(OPRIT).name] == "bot.cli:main"
    args = build_parser().parse_args(argv[1:])
    assert args.command == UNITS[name]
    assert callable(args.handler)


def test_template_unit_gives_each_worker_its_own_port(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = unit_environment(read_unit("oprit-webhook@.service"))
    assert set(environment) == {"OPRIT_WEBHOOK_LISTEN"}
    assert environment["OPRIT_WEBHOOK_LISTEN"] == "127.0.0.1:808%i"
    for instance in range(1, 10):
        value = environment["OPRIT_WEBHOOK_LISTEN"].replace("%i", str(instance))
        settings = settings_from({"OPRIT_WEBHOOK_LISTEN": value}, monkeypatch)
        assert settings.webhook_listen == ListenAddress("127.0.0.1", 8080 + instance)


def test_polling_unit_serves_metrics_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = unit_environment(read_unit("oprit-polling.service"))
    assert set(environment) == {"OPRIT_METRICS_LISTEN"}
    assert "%" not in environment["OPRIT_METRICS_LISTEN"]
    listen = settings_from(environment, monkeypatch).metrics_listen
    assert listen is not None and listen.host == "127.0.0.1"
    assert listen.port not in worker_ports()


def dashboard_port() -> int:
    """Where oprit-web.service listens (127.0.0.1 only)."""
    environment = unit_environment(read_unit("oprit-web.service"))
    address = ListenAddress.parse(environment["OPRIT_WEB_LISTEN"])
    assert address.host == "127.0.0.1"
    return address.port


def test_web_unit_serves_the_dashboard_on_its_own_port(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = unit_environment(read_unit("oprit-web.service"))
    assert set(environment) == {"OPRIT_WEB_LISTEN"}
    listen = settings_from(environment, monkeypatch).web_listen
    assert listen is not None and listen.port == dashboard_port()
    polling = unit_environment(read_unit("oprit-polling.service"))["OPRIT_METRICS_LISTEN"]
    assert dashboard_port() not in (*worker_ports(), ListenAddress.parse(polling).port)


def test_unit_environment_names_are_settings() -> None:
    assert set(all_unit_environment()) <= setting_names()


def _stand_in_units(directory: Path) -> None:
    """Copies of the units whose ExecStart names a program that exists on this machine
    (verify fails on a missing executable); the path itself is checked above."""
    stand_in = Path(sys.executable).with_name("oprit")
    program = str(stand_in if stand_in.exists() else Path(sys.executable))
    for name in UNITS:
        (directory / name).write_text(text(name).replace(OPRIT, program))


def _systemd_analyze_works(directory: Path) -> str:
    """Why systemd-analyze cannot be used here, or '' when it can."""
    if shutil.which("systemd-analyze") is None:
        return "systemd-analyze is not installed"
    probe = directory / "oprit-probe.service"
    probe.write_text(f"[Unit]\nDescription=probe\n[Service]\nExecStart={sys.executable} -V\n")
    result = subprocess.run(
        ["systemd-analyze", "verify", f"./{probe.name}"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    probe.unlink()
    if result.returncode != 0 or result.stderr.strip():
        return f"systemd-analyze verify does not work here: {result.stderr.strip()[:200]}"
    return ""


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    reason = _systemd_analyze_works(tmp_path)
    if reason:
        pytest.skip(reason + " (the unit files were still parsed and validated above)")
    _stand_in_units(tmp_path)
    for instance in ("oprit-webhook@1.service", "oprit-polling.service", "oprit-web.service"):
        result = subprocess.run(
            ["systemd-analyze", "verify", f"./{instance}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        # verify reports unknown keys and bad values only as warnings: none are allowed.
        assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_units_are_well_hardened(tmp_path: Path) -> None:
    reason = _systemd_analyze_works(tmp_path)
    if reason:
        pytest.skip(reason)
    _stand_in_units(tmp_path)
    for instance in ("oprit-webhook@1.service", "oprit-polling.service", "oprit-web.service"):
        result = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", f"./{instance}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        if "offline" in result.stderr and "unrecognized" in result.stderr:
            pytest.skip("this systemd-analyze has no `security --offline`")
        found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
        assert found, result.stdout + result.stderr
        assert float(found.group(1)) <= 2.0, result.stdout  # systemd calls up to 2.0 "OK"


# --- settings example --------------------------------------------------------------------

# What both systemd's EnvironmentFile= and a shell's `.` read the same way.
ENV_LINE = re.compile(
    r"(?P<name>[A-Z][A-Z0-9_]*)=(?:\"(?P<quoted>[^\"$`\\]*)\"|(?P<bare>[^\s\"'$`\\#;]*))"
)


def read_env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(text("oprit.env.example").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        found = ENV_LINE.fullmatch(line)
        assert found, f'oprit.env.example line {number} is not NAME=value or NAME="value"'
        assert found["name"] not in values, f"{found['name']} is set twice"
        values[found["name"]] = found["quoted"] if found["quoted"] is not None else found["bare"]
    return values


def test_env_example_names_every_setting_once() -> None:
    values = read_env_example()
    assert set(values) <= setting_names()
    from_units = set(all_unit_environment())
    # systemd lets EnvironmentFile= win over Environment=: a listen address in the file
    # would put every worker on the same port.
    assert not set(values) & from_units
    assert set(values) | from_units == setting_names()
    comments = "\n".join(
        line for line in text("oprit.env.example").splitlines() if line.startswith("#")
    )
    assert all(name in comments for name in from_units)


def test_env_example_values_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    values = read_env_example()
    for secret in ("OPRIT_BOT_TOKEN", "OPRIT_WEBHOOK_SECRET"):
        assert PLACEHOLDER.fullmatch(values[secret]), f"{secret} must be a placeholder"
    placeholders = set(PLACEHOLDER.findall(text("oprit.env.example")))
    assert placeholders == set(STAND_INS)
    filled = {name: PLACEHOLDER.sub(lambda m: STAND_INS[m[0]], v) for name, v in values.items()}

    settings = settings_from(filled, monkeypatch)

    assert settings.database_url.startswith("postgresql+asyncpg://oprit:")
    assert settings.webhook_url is not None
    url = urlsplit(settings.webhook_url)
    assert (url.scheme, url.hostname) == ("https", DOMAIN)
    assert url.path.startswith(WEBHOOK_PREFIX) and len(url.path) > len(WEBHOOK_PREFIX) + 16
    assert settings.webhook_secret and TELEGRAM_SECRET.fullmatch(settings.webhook_secret)
    assert settings.webhook_listen is None and settings.metrics_listen is None
    assert settings.encryption_key is None  # the key file by default
    assert settings.officer_chat_id is None


def test_env_example_reads_the_same_in_bash() -> None:
    """oprit-admin reads the file with bash; systemd must see the same values."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    result = subprocess.run(
        [bash, "-c", 'set -a && . "$1" && env -0', "bash", str(DEPLOY / "oprit.env.example")],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        check=True,
    )
    seen = dict(
        item.split("=", 1)
        for item in result.stdout.decode().split("\0")
        if item.startswith("OPRIT_")
    )
    assert seen == read_env_example()


# --- oprit-admin ---------------------------------------------------------------------------

ADMIN_VARIABLES = ("service_user", "data_dir", "env_file", "oprit")


def admin_variables(script: str) -> dict[str, str]:
    found = dict(re.findall(r"^(\w+)=(\S+)$", script, flags=re.MULTILINE))
    return {name: found[name] for name in ADMIN_VARIABLES}


def test_admin_script_runs_oprit_like_the_units() -> None:
    path = DEPLOY / "oprit-admin"
    assert os.access(path, os.X_OK), "deploy/oprit-admin must be executable"
    subprocess.run(["bash", "-n", str(path)], check=True)
    for name in UNITS:
        unit = read_unit(name)
        assert admin_variables(path.read_text()) == {
            "service_user": one(unit, "Service", "User"),
            "data_dir": one(unit, "Service", "WorkingDirectory"),
            "env_file": one(unit, "Service", "EnvironmentFile"),
            "oprit": shlex.split(one(unit, "Service", "ExecStart"))[0],
        }


def test_admin_script_works(tmp_path: Path) -> None:
    """Run a copy pointed at a scratch directory: the settings file is read, OPRIT_
    overrides win, the working directory holds the key file, arguments and stdin pass."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("oprit-admin switches users with runuser, which needs root")
    oprit = Path(sys.executable).with_name("oprit")
    assert oprit.exists(), "the oprit console script of this virtualenv"
    data_dir, elsewhere = tmp_path / "var", tmp_path / "elsewhere"
    data_dir.mkdir()
    elsewhere.mkdir()
    env_file = tmp_path / "oprit.env"
    env_file.write_text(
        PLACEHOLDER.sub(lambda m: STAND_INS[m[0]], text("oprit.env.example")).replace(
            f"postgresql+asyncpg://oprit:{STAND_INS['REPLACE_WITH_DATABASE_PASSWORD']}"
            "@127.0.0.1:5432/oprit",
            "sqlite+aiosqlite:///data/from-env-file.db",
        )
    )
    script = text("oprit-admin")
    for name, value in {
        "service_user": "root",
        "data_dir": str(data_dir),
        "env_file": str(env_file),
        "oprit": str(oprit),
    }.items():
        script = re.sub(rf"^{name}=\S+$", f"{name}={value}", script, count=1, flags=re.M)
    admin = tmp_path / "oprit-admin"
    admin.write_text(script)
    admin.chmod(0o755)

    def run(*args: str, stdin: str = "", **overrides: str) -> str:
        result = subprocess.run(
            [str(admin), *args],
            cwd=elsewhere,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **overrides},
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    sqlite = "sqlite+aiosqlite:///data/override.db"
    assert "revision" in json.loads(run("db", "upgrade", "--json", OPRIT_DATABASE_URL=sqlite))
    assert (data_dir / "data" / "override.db").exists()
    key_file = data_dir / "data" / "oprit.key"
    assert key_file.exists() and key_file.stat().st_mode & 0o777 == 0o600
    assert not (elsewhere / "data").exists()

    name = "Officer 'Example' \"Quoted\" $HOME"
    add = ("staff", "add", "--telegram-id", "6100001", "--role", "officer", "--name", name)
    run(*add, OPRIT_DATABASE_URL=sqlite)
    staff = json.loads(run("staff", "list", "--json", OPRIT_DATABASE_URL=sqlite))
    assert [row["name"] for row in staff] == [name]
    verdict = run("triage", stdin='{"text": "hallo", "lang": "nl"}\n')
    assert json.loads(verdict)["severity"] == "none"

    # Without an override the settings file's database is used.
    assert not (data_dir / "data" / "from-env-file.db").exists()
    run("db", "upgrade")
    assert (data_dir / "data" / "from-env-file.db").exists()


# --- nginx -----------------------------------------------------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None


NGINX_TOKEN = re.compile(r"#[^\n]*|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};\"'#]+")


def parse_nginx(source: str) -> list[Directive]:
    """nginx's grammar: `name args;` or `name args { ... }`; fails on unbalanced braces."""
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    for token in NGINX_TOKEN.findall(source):
        if token.startswith("#"):
            continue
        if token == ";":
            assert words, "an empty `;`"
            stack[-1].append(Directive(words[0], words[1:]))
            words = []
        elif token == "{":
            assert words, "a block without a name"
            block: list[Directive] = []
            stack[-1].append(Directive(words[0], words[1:], block))
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"missing `;` after {words}"
            assert len(stack) > 1, "a `}` too many"
            stack.pop()
        else:
            words.append(token.strip("\"'"))
    assert len(stack) == 1, "a block is not closed"
    assert not words, f"missing `;` after {words}"
    return stack[0]


def walk(
    directives: list[Directive], parents: tuple[Directive, ...] = ()
) -> Iterator[tuple[Directive, tuple[Directive, ...]]]:
    for directive in directives:
        yield directive, parents
        if directive.block is not None:
            yield from walk(directive.block, (*parents, directive))


def nginx_config() -> list[Directive]:
    return parse_nginx(text("nginx-oprit.conf"))


def nginx_upstream() -> Directive:
    upstreams = [d for d in nginx_config() if d.name == "upstream"]
    assert len(upstreams) == 1 and upstreams[0].block is not None
    return upstreams[0]


def worker_ports() -> list[int]:
    """The workers the proxy knows: 127.0.0.1:808N for oprit-webhook@N."""
    servers = [d.args[0] for d in nginx_upstream().block or [] if d.name == "server"]
    addresses = [ListenAddress.parse(server) for server in servers]
    assert all(address.host == "127.0.0.1" for address in addresses)
    return [address.port for address in addresses]


def test_nginx_spreads_the_webhook_over_the_workers() -> None:
    ports = worker_ports()
    assert len(ports) >= 2 and len(set(ports)) == len(ports)
    assert all(8081 <= port <= 8089 for port in ports)  # oprit-webhook@1..9

    servers = [d.block or [] for d in nginx_config() if d.name == "server"]
    tls = [s for s in servers if any(d.name == "listen" and "ssl" in d.args for d in s)]
    assert len(tls) == 1
    simple = {d.name: d.args for d in tls[0] if d.block is None}
    assert simple["server_name"] == [DOMAIN]
    assert simple["ssl_certificate"] == [f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem"]
    assert simple["ssl_certificate_key"] == [f"/etc/letsencrypt/live/{DOMAIN}/privkey.pem"]
    assert any(d.args[0] == "443" for d in tls[0] if d.name == "listen")

    locations = {tuple(d.args): d.block or [] for d in tls[0] if d.name == "location"}
    webhook = locations[(WEBHOOK_PREFIX,)]
    assert [d.args for d in webhook if d.name == "proxy_pass"] == [
        [f"http://{nginx_upstream().args[0]}"]
    ]
    assert [d.args for d in webhook if d.name == "limit_except"] == [["POST"]]
    assert urlsplit(read_env_example()["OPRIT_WEBHOOK_URL"]).path.startswith(WEBHOOK_PREFIX)


def test_nginx_keeps_metrics_and_health_off_the_internet() -> None:
    for directive, parents in walk(nginx_config()):
        if directive.name == "proxy_pass":
            where = [p.args for p in parents if p.name == "location"]
            assert where in ([[WEBHOOK_PREFIX]], [[DASHBOARD_PREFIX]])
            if where == [[DASHBOARD_PREFIX]]:
                assert directive.args == [f"http://127.0.0.1:{dashboard_port()}"]
    for server in [d.block or [] for d in nginx_config() if d.name == "server"]:
        locations = {tuple(d.args): d.block or [] for d in server if d.name == "location"}
        catch_all = [d.args for d in locations[("/",)] if d.name == "return"]
        assert catch_all in ([["404"]], [["301", "https://$host$request_uri"]])
        if catch_all == [["404"]]:
            for path in ("/metrics", "/healthz", "/readyz"):
                rules = [(d.name, d.args) for d in locations[("=", path)]]
                assert rules == [("deny", ["all"])], path


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    """`nginx -t` when nginx is installed (with a throwaway certificate); the structural
    checks above run everywhere."""
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("nginx is not installed (apt install nginx-light); the file was not run")
    certificate, key = _self_signed(tmp_path)
    source = (
        text("nginx-oprit.conf")
        .replace(f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem", str(certificate))
        .replace(f"/etc/letsencrypt/live/{DOMAIN}/privkey.pem", str(key))
        .replace("/var/log/nginx/", f"{tmp_path}/")
        .replace("/var/www/html", str(tmp_path))
    )
    (tmp_path / "oprit.conf").write_text(source)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ {temp} access_log {tmp_path}/access.log;"
        f" include {tmp_path}/oprit.conf; }}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DOMAIN)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "cert.pem", directory / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


# --- Caddy -----------------------------------------------------------------------------------


@dataclass
class Block:
    tokens: list[str]
    children: list[Block] = field(default_factory=list)


def parse_caddyfile(source: str) -> list[Block]:
    """Caddyfile structure: one directive per line, a line ending in `{` opens a block."""
    root = Block([])
    stack = [root]
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "}":
            assert len(stack) > 1, f"Caddyfile line {number}: a `}}` too many"
            stack.pop()
            continue
        node = Block(shlex.split(line.removesuffix("{")))
        assert "{" not in node.tokens and "}" not in node.tokens, f"Caddyfile line {number}"
        stack[-1].children.append(node)
        if line.endswith("{"):
            stack.append(node)
    assert len(stack) == 1, "a Caddyfile block is not closed"
    return root.children


def caddy_walk(
    blocks: list[Block], parents: tuple[Block, ...] = ()
) -> Iterator[tuple[Block, tuple[Block, ...]]]:
    for block in blocks:
        yield block, parents
        yield from caddy_walk(block.children, (*parents, block))


def test_caddyfile_proxies_only_the_webhook_to_the_workers() -> None:
    top = parse_caddyfile(text("Caddyfile"))
    assert top[0].tokens == [] and any(c.tokens[0] == "email" for c in top[0].children)
    assert [site.tokens for site in top[1:]] == [[DOMAIN]]
    site = top[1]
    matchers = {c.tokens[0]: c for c in site.children if c.tokens[0].startswith("@")}
    proxies = [(b, parents) for b, parents in caddy_walk(top) if b.tokens[:1] == ["reverse_proxy"]]
    dashboard = [(b, p) for b, p in proxies if p[-1].tokens == ["handle", DASHBOARD_PREFIX + "*"]]
    assert len(dashboard) == 1 and len(proxies) == 2, "only the webhook and the dashboard"
    assert dashboard[0][0].tokens[1:] == [f"127.0.0.1:{dashboard_port()}"]
    proxy, parents = next(pair for pair in proxies if pair not in dashboard)
    assert parents[-1].tokens[0] == "handle"
    matcher = matchers[parents[-1].tokens[1]]
    conditions = {c.tokens[0]: c.tokens[1:] for c in matcher.children}
    assert conditions == {"method": ["POST"], "path": [WEBHOOK_PREFIX + "*"]}
    assert proxy.tokens[1:] == [f"127.0.0.1:{port}" for port in worker_ports()]
    options = {c.tokens[0]: c.tokens[1:] for c in proxy.children}
    assert options["health_uri"] == ["/healthz"]

    handles = {tuple(c.tokens[1:]): c for c in site.children if c.tokens[0] == "handle"}
    assert [c.tokens for c in handles[("/metrics",)].children] == [["respond", "403"]]
    assert [c.tokens for c in handles[()].children] == [["respond", "404"]]
    # Caddy's access log records request headers, the webhook secret among them.
    assert not any(block.tokens[:1] == ["log"] for block, _ in caddy_walk(top))


def test_caddy_accepts_the_caddyfile(tmp_path: Path) -> None:
    """`caddy adapt --validate` and `caddy fmt` when caddy is installed."""
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt install caddy); the file was not run")
    path = str(DEPLOY / "Caddyfile")
    adapted = subprocess.run(
        [caddy, "adapt", "--config", path, "--adapter", "caddyfile", "--validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert adapted.returncode == 0, adapted.stderr
    formatted = subprocess.run([caddy, "fmt", path], capture_output=True, text=True, check=True)
    assert formatted.stdout == text("Caddyfile")


# --- Prometheus ------------------------------------------------------------------------------


def read_flow_yaml(name: str) -> Any:
    """The Prometheus files are YAML written as JSON after `#` comment lines."""
    source = text(name)
    assert "\t" not in source
    body = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
    return json.loads(body)


def alert_rules() -> list[dict[str, Any]]:
    groups = read_flow_yaml("prometheus-oprit-rules.yml")["groups"]
    return [rule for group in groups for rule in group["rules"]]


def metric_definitions() -> list[tuple[str, str]]:
    """(kind, name) of every metric bot/metrics.py defines."""
    source = (ROOT / "bot" / "metrics.py").read_text()
    found = re.findall(r"\b(Counter|Gauge|Histogram)\(\s*\"(oprit_[a-z0-9_]+)\"", source)
    assert found, "bot/metrics.py defines no oprit_ metrics"
    return found


def exported_metrics() -> set[str]:
    """The series names bot/metrics.py exports, as Prometheus sees them."""
    suffixes = {"Counter": ("_total",), "Gauge": ("",), "Histogram": ("_bucket", "_sum", "_count")}
    return {name + suffix for kind, name in metric_definitions() for suffix in suffixes[kind]}


def test_prometheus_scrapes_every_worker() -> None:
    config = read_flow_yaml("prometheus-oprit.yml")
    for key in ("scrape_interval", "evaluation_interval"):
        assert DURATION.fullmatch(config["global"][key])
    assert config["rule_files"] == [INSTALLED["prometheus-oprit-rules.yml"]]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    addresses = [f"127.0.0.1:{port}" for port in worker_ports()]

    metrics = jobs["oprit"]
    assert metrics["metrics_path"] == "/metrics"
    assert [t for group in metrics["static_configs"] for t in group["targets"]] == addresses

    ready = jobs["oprit-readyz"]
    assert ready["metrics_path"] == "/probe" and ready["params"] == {"module": ["http_2xx"]}
    targets = [t for group in ready["static_configs"] for t in group["targets"]]
    assert targets == [f"http://{address}/readyz" for address in addresses]
    relabel = ready["relabel_configs"]
    assert {"source_labels": ["__address__"], "target_label": "__param_target"} in relabel
    assert any(r.get("target_label") == "__address__" for r in relabel)


def test_prometheus_alert_rules() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    exported = exported_metrics()
    for rule in rules:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert DURATION.fullmatch(rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert rule["annotations"]["summary"]
        expr = rule["expr"]
        for opening, closing in ("()", "{}", "[]"):
            assert expr.count(opening) == expr.count(closing), expr
        for metric in re.findall(r"\boprit_[a-z0-9_]+", expr):
            assert metric in exported, f"{rule['alert']}: {metric} is not exported"
    expressions = " ".join(rule["expr"] for rule in rules)
    for needed in (
        'up{job="oprit"}',
        'probe_success{job="oprit-readyz"}',  # /readyz of every worker
        "oprit_alerts_unacknowledged",
        "oprit_outbox_oldest_due_seconds",
    ):
        assert needed in expressions


def test_promtool_accepts_the_files(tmp_path: Path) -> None:
    """`promtool check` when Prometheus is installed."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt install prometheus); the files were not run")
    rules = tmp_path / "prometheus-oprit-rules.yml"
    rules.write_text(text("prometheus-oprit-rules.yml"))
    config = tmp_path / "prometheus.yml"
    config.write_text(
        text("prometheus-oprit.yml").replace(INSTALLED["prometheus-oprit-rules.yml"], str(rules))
    )
    for command in (["check", "config", str(config)], ["check", "rules", str(rules)]):
        result = subprocess.run([promtool, *command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


# --- the guide -------------------------------------------------------------------------------


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def code_lines() -> list[str]:
    lines, inside = [], False
    for line in guide().splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line)
    return lines


def test_signal_cli_unit_runs_the_documented_daemon() -> None:
    """`signal-cli -a ACCOUNT daemon --http HOST:PORT` (signal-cli(1)), on loopback only,
    receiving only while Oprit listens, at the address the guide gives OPRIT_SIGNAL_URL."""
    unit = read_unit("signal-cli.service")
    command = shlex.split(one(unit, "Service", "ExecStart"))
    daemon = command.index("daemon")
    assert command[daemon - 2] == "-a" and re.fullmatch(r"\+[0-9]{8,15}", command[daemon - 1])
    assert command[command.index("--http") + 1] == "127.0.0.1:8080"
    assert "--receive-mode=on-connection" in command
    assert "OPRIT_SIGNAL_URL=http://127.0.0.1:8080" in guide()
    assert one(unit, "Service", "User") != "root"


def test_every_deploy_file_is_checked_here() -> None:
    assert {path.name for path in DEPLOY.iterdir()} == set(INSTALLED)


def test_guide_installs_every_deploy_file() -> None:
    rows = [line for line in guide().splitlines() if line.startswith("| `")]
    commands = "\n".join(code_lines())
    for name, installed in INSTALLED.items():
        assert any(f"`{name}`" in row and f"`{installed}`" in row for row in rows), name
        assert name in commands and installed.rsplit("/", 1)[0] in commands, name
        header = "\n".join(line for line in text(name).splitlines()[:12] if line.startswith("#"))
        assert installed in header, f"{name} should say where it is installed"


def test_guide_names_every_setting_and_only_real_ones() -> None:
    mentioned = set(re.findall(r"\bOPRIT_[A-Z_]+[A-Z]\b", guide()))
    assert mentioned == setting_names()
    for name in INSTALLED:
        assert set(re.findall(r"\bOPRIT_[A-Z_]+[A-Z]\b", text(name))) <= setting_names(), name


def admin_commands() -> list[tuple[str, list[str]]]:
    """Every `oprit-admin ...` in the guide's code blocks, cut where the shell takes over."""
    commands = []
    for line in code_lines():
        for found in re.finditer(r"(?:^|[\s(])oprit-admin\s+([a-z].*)", line):
            rest = re.split(r"\s[|>#<]|[;)'&\\]", found.group(1))[0]
            commands.append((line, shlex.split(rest)))
    return commands


def test_guide_commands_are_real_oprit_commands() -> None:
    parser = build_parser()
    used = set()
    for line, argv in admin_commands():
        try:
            args, _unknown = parser.parse_known_args(argv)
        except SystemExit:
            pytest.fail(f"not a valid oprit command: {line}")
        sub = next((v for k, v in vars(args).items() if k.endswith("_command")), None)
        used.add(" ".join(filter(None, (args.command, sub))))
    expected = {
        "db upgrade", "db current", "staff add", "staff list", "staff remove", "invite create",
        "keys generate", "keys rotate", "participants list", "export", "erase", "purge",
        "audit", "webhook",
    }  # fmt: skip
    assert expected <= used, expected - used


def test_guide_runs_every_worker_the_proxy_knows() -> None:
    enabled = [line for line in code_lines() if "systemctl enable --now oprit-webhook@" in line]
    assert enabled
    instances = {int(n) for n in re.findall(r"oprit-webhook@(\d)", enabled[0])}
    assert {8080 + n for n in instances} == set(worker_ports())
    loops = [line for line in code_lines() if line.startswith("for n in ")]
    assert loops and {int(n) for n in re.findall(r"\d+", loops[0])} == instances


def test_guide_metrics_exist() -> None:
    section = guide().split("## 12. Metrics and alerts")[1].split("\n## ")[0]
    named = set(re.findall(r"\boprit_[a-z0-9_]+", section))
    histograms = {name for kind, name in metric_definitions() if kind == "Histogram"}
    known = exported_metrics() | histograms
    assert named and named <= known, named - known
    assert all(f"`{rule['alert']}`" in section for rule in alert_rules())


def test_guide_installs_the_locked_versions_and_the_wheel() -> None:
    """The hash-checked lock, then Oprit itself as a wheel (translations and migrations
    inside), never an editable checkout on a server."""
    installs = [line for line in code_lines() if re.search(r"pip\"? install", line)]
    assert installs
    for line in installs:
        assert (
            "--upgrade pip" in line
            or '--require-hashes -r "$RELEASE/requirements.lock"' in line
            or '--no-deps "$RELEASE"' in line
        ), line
        assert " -e " not in line, line


def test_no_secrets_or_real_hosts() -> None:
    sources = {"docs/deploy.md": guide(), **{name: text(name) for name in INSTALLED}}
    allowed_hosts = {
        DOMAIN, "git.example.nl", "api.telegram.org", "t.me", "web.telegram.org",
        "127.0.0.1", "10.0.0.11", nginx_upstream().args[0],
        "signal.me", "signalcaptchas.org",  # Signal's own, as for t.me (section 17)
    }  # fmt: skip
    for name, source in sources.items():
        assert not re.search(r"\b\d{6,}:[A-Za-z0-9_-]{30,}", source), f"{name}: a bot token?"
        assert not re.search(r"\b[0-9a-f]{32,}\b", source), f"{name}: a secret?"
        assert "PRIVATE KEY" not in source, name
        urls = re.findall(r"https?://[^\s\"'`)<>|;]+", source)
        hosts = {urlsplit(url).hostname for url in urls if "$" not in url} - {None}
        assert hosts <= allowed_hosts, f"{name}: {hosts - allowed_hosts}"
        emails = set(re.findall(r"[\w.+-]+@([a-z][\w-]*\.[a-z][\w.-]*)", source))
        assert emails <= {"example.nl"}, f"{name}: {emails}"
