"""pyproject.toml declares what the code imports, with honest bounds, and the lock files
pin every declared dependency at a version the bounds allow (else: `make lock`)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
OWN = {"bot", "handlers", "db"}
LOCKS = {"requirements.lock": [], "requirements-dev.lock": ["dev"]}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def requirements(extras: list[str]) -> list[Requirement]:
    declared = PROJECT["project"]["dependencies"]
    for extra in extras:
        declared = declared + PROJECT["project"]["optional-dependencies"][extra]
    return [Requirement(line) for line in declared]


def pins(lock: str) -> dict[str, tuple[Version, int]]:
    """name → (pinned version, number of hashes) from a `uv pip compile` lock file, for
    this Python (a universal lock may pin numpy once per Python version range)."""
    found: dict[str, tuple[Version, int]] = {}
    name: str | None = ""
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match and match[3] and not Marker(match[3]).evaluate():
            name = None
        elif match:
            name = canonicalize_name(match[1])
            found[name] = (Version(match[2]), 0)
        elif line.strip().startswith("--hash=sha256:") and name is not None:
            pinned, hashes = found[name]
            found[name] = (pinned, hashes + 1)
    return found


def imported_distributions() -> dict[str, set[str]]:
    """Distribution → the modules of bot/, handlers/ and db/ that import it directly."""
    providers = packages_distributions()
    used: dict[str, set[str]] = {}
    for folder in OWN:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top in OWN:
                        continue
                    for dist in providers.get(top, [top]):
                        used.setdefault(canonicalize_name(dist), set()).add(
                            str(path.relative_to(ROOT))
                        )
    return used


def test_every_imported_library_is_a_declared_dependency() -> None:
    """A library we import must not arrive only as somebody else's dependency."""
    declared = {canonicalize_name(req.name) for req in requirements([])}
    train_only = {canonicalize_name(req.name) for req in requirements(["triage-train"])}
    for dist, modules in imported_distributions().items():
        if modules <= {"bot/triage/train.py"}:
            assert dist in train_only, f"{dist} (bot/triage/train.py) is not in triage-train"
        else:
            assert dist in declared, f"{dist} is imported by {sorted(modules)} but not declared"


def test_bounds_are_honest() -> None:
    by_name = {canonicalize_name(req.name): req for req in requirements([])}
    # NoDecode (bot/config.py) came with pydantic-settings 2.7.
    assert not by_name["pydantic-settings"].specifier.contains("2.6.1")
    assert by_name["pydantic-settings"].specifier.contains("2.7.0")
    for req in requirements(["dev", "triage-train", "bench"]):
        uppers = [spec for spec in req.specifier if spec.operator in {"<", "<=", "~=", "=="}]
        lowers = [spec for spec in req.specifier if spec.operator in {">=", "~=", "=="}]
        assert lowers, f"{req}: no lower bound"
        assert uppers or req.name == "tzdata", f"{req}: no upper bound"


def test_build_needs_no_wheel_and_license_is_spdx() -> None:
    build = [Requirement(line) for line in PROJECT["build-system"]["requires"]]
    assert "wheel" not in {req.name for req in build}
    setuptools = next(req for req in build if req.name == "setuptools")
    assert not setuptools.specifier.contains("76.9")  # PEP 639 license strings: 77
    assert PROJECT["project"]["license"] == "EUPL-1.2"


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_pins_every_dependency_within_its_bounds(lock: str) -> None:
    pinned = pins(lock)
    assert pinned, lock
    for req in requirements(LOCKS[lock]):
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not in {lock}: run `make lock`"
        assert req.specifier.contains(pinned[name][0], prereleases=True), (
            f"{lock} pins {name}=={pinned[name][0]} outside {req.specifier}: run `make lock`"
        )
    unhashed = [name for name, (_, hashes) in pinned.items() if hashes == 0]
    assert not unhashed, f"{lock}: pins without hashes {unhashed}"


def test_dev_lock_has_the_runtime_versions() -> None:
    """The tested versions are the deployed versions."""
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: pin for name, (pin, _) in runtime.items()} == {
        name: dev[name][0] for name in runtime if name in dev
    }
    assert set(runtime) <= set(dev)


def test_this_environment_runs_the_locked_versions() -> None:
    """`make` installed from the lock (a stale .venv shows here, not in production)."""
    stale = {}
    for name, (pinned, _) in pins("requirements-dev.lock").items():
        try:
            installed = Version(version(name))
        except PackageNotFoundError:  # a pin for another platform (e.g. Windows only)
            continue
        if installed != pinned:
            stale[name] = f"{installed} (lock: {pinned})"
    assert not stale, f"the environment differs from requirements-dev.lock: {stale}"
