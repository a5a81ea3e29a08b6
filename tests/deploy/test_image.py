"""The image installs from requirements.lock, which pins (with hashes) every dependency that
pyproject.toml declares at a version it allows, and carries wagate itself with its `wagate`
command; its build context holds what that install reads; LICENSE is the one pyproject names."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = (ROOT / "requirements.lock").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# The image's interpreter: CPython 3.11 on Linux (Dockerfile's PYTHON_IMAGE).
IMAGE = {
    **default_environment(),
    "python_version": "3.11",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def locked() -> dict[str, tuple[str, str]]:
    """name -> (version, the entry's text) for every pin of the lock."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK)
    pins: dict[str, tuple[str, str]] = {}
    for entry in entries:
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", entry)
        if match:
            pins[canonicalize_name(match[1])] = (match[2], entry)
    return pins


PINS = locked()


@pytest.mark.parametrize("requirement", PYPROJECT["project"]["dependencies"])
def test_every_dependency_is_locked_at_a_version_it_allows(requirement: str) -> None:
    wanted = Requirement(requirement)
    name = canonicalize_name(wanted.name)
    assert name in PINS, f"{wanted.name} is not in requirements.lock: run `make lock`"
    version = PINS[name][0]
    assert wanted.specifier.contains(version, prereleases=True), (
        f"requirements.lock pins {name}=={version}, pyproject.toml wants {wanted.specifier}: "
        "run `make lock`"
    )


def test_every_pin_is_exact_and_hashed() -> None:
    assert PINS, "requirements.lock pins nothing"
    for name, (_, entry) in PINS.items():
        assert "--hash=sha256:" in entry, f"{name} has no hash (pip --require-hashes needs one)"
    loose = [
        line
        for line in LOCK.splitlines()
        if re.match(r"[A-Za-z0-9]", line) and "==" not in line.split(";")[0]
    ]
    assert not loose, loose


def test_what_installed_packages_need_is_locked_too() -> None:
    """Where the test environment has a locked package at its locked version, everything it
    requires on the image's platform is in the lock (a partial check of the closure)."""
    checked = 0
    for name, (version, _) in PINS.items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if dist.version != version:
            continue
        checked += 1
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker and not needed.marker.evaluate({**IMAGE, "extra": ""}):
                continue
            assert canonicalize_name(needed.name) in PINS, f"{name} needs {needed.name}"
    assert checked >= len(PYPROJECT["project"]["dependencies"])


def test_the_image_installs_the_lock_then_wagate_with_its_command() -> None:
    assert "pip install --require-hashes --no-deps -r requirements.lock" in DOCKERFILE
    assert "pip install --no-deps ." in DOCKERFILE
    assert PYPROJECT["project"]["scripts"]["wagate"] == "cli.main:main"


def test_the_build_context_holds_what_the_install_reads() -> None:
    admitted = {
        line.removeprefix("!").rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    packages = {
        p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    needed = {"requirements.lock", "pyproject.toml", PYPROJECT["project"]["readme"], "LICENSE"}
    assert needed | packages <= admitted
    for path in needed | packages:
        assert (ROOT / path).exists(), path
        assert re.search(rf"^COPY .*\b{re.escape(path)}\b", DOCKERFILE, re.M), path


def test_license_is_the_apache_license_pyproject_names() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text
    sections = re.findall(r"^\s+(\d)\. [A-Z][a-z]+", text, re.M)
    assert sections == [str(n) for n in range(1, 10)]
