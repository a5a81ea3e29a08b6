"""The image installs from requirements.lock, which pins (with hashes) every dependency that
pyproject.toml declares, and its `fast` extra (uvloop), at a version it allows, and carries
wagate itself with its `wagate` command and the client package; its build context holds what
that install reads, and a wheel built from what the Dockerfile copies holds every package and
page the services import; LICENSE is the one pyproject names; the image exposes every service's
port."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

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


IN_THE_IMAGE = [
    *PYPROJECT["project"]["dependencies"],
    *PYPROJECT["project"]["optional-dependencies"]["fast"],  # WAGATE_EVENT_LOOP=uvloop
]


@pytest.mark.parametrize("requirement", IN_THE_IMAGE)
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


def packages() -> dict[str, str]:
    """Each package pattern of pyproject.toml -> the folder it is found in (its `where`)."""
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    found: dict[str, str] = {}
    for name in sorted({p.rstrip("*").rstrip(".") for p in find["include"]}):
        homes = [w for w in find["where"] if (ROOT / w / name).is_dir()]
        assert len(homes) == 1, f"{name} is in {homes or 'none'} of {find['where']}"
        found[name] = str(Path(homes[0]) / name) if homes[0] != "." else name
    return found


def copied() -> list[str]:
    """The paths the build stage copies from the build context."""
    paths: list[str] = []
    for line in re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE, re.M):
        sources = line.split()[:-1]
        paths += [p.removeprefix("./").rstrip("/") for p in sources]
    return paths


def test_the_build_context_holds_what_the_install_reads() -> None:
    admitted = {
        line.removeprefix("!").rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    needed = {"requirements.lock", "pyproject.toml", PYPROJECT["project"]["readme"], "LICENSE"}
    needed |= set(packages().values())
    assert "clients/python/src/wagate_client" in needed
    for path in needed:
        assert (ROOT / path).exists(), path
        assert any(path == a or path.startswith(f"{a}/") for a in admitted), path
        assert any(path == c or path.startswith(f"{c}/") for c in copied()), path


def test_the_image_exposes_every_service_port() -> None:
    exposed = {int(p) for p in re.findall(r"^EXPOSE (.+)$", DOCKERFILE, re.M)[0].split()}
    ports = {
        int(port)
        for path in ROOT.glob("services/*/settings.py")
        for port in re.findall(r"HttpSettings\(port=(\d+)\)", path.read_text())
    }
    assert 8085 in ports
    assert ports <= exposed


PIP_WHEEL = (sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation")


@pytest.mark.timeout(300)
def test_a_wheel_of_what_the_image_copies_holds_every_package(tmp_path: Path) -> None:
    """Built offline from exactly the paths the Dockerfile copies, as its `pip install .` does."""
    context = tmp_path / "context"
    for path in copied():
        source = ROOT / path
        if source.is_dir():
            shutil.copytree(source, context / path, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (context / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, context / path)
    subprocess.run(
        [*PIP_WHEEL, str(context), "-w", str(tmp_path / "dist")],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (wheel,) = (tmp_path / "dist").glob("wagate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {n.split("/")[0] for n in names if "/" in n and ".dist-info" not in n}
    assert tops == {"shared", "services", "cli", "wagate_client"}
    assert "wagate_client/events/intents.py" in names
    wanted = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "services").rglob("*")
        if p.suffix in (".sql", ".html", ".css", ".js", ".py") and "__pycache__" not in p.parts
    ]
    assert "services/console/migrations/0001_read_model.sql" in wanted
    assert not [p for p in wanted if p not in names]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "wagate = cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_license_is_the_apache_license_pyproject_names() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text
    sections = re.findall(r"^\s+(\d)\. [A-Z][a-z]+", text, re.M)
    assert sections == [str(n) for n in range(1, 10)]
