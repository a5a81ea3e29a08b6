"""The wagate-client distribution as a business system gets it: its wheel, built offline from
`clients/python`, installed with `pip install --no-deps` into a fresh virtualenv that sees
only the distributions the wheel declares (and theirs), taken from this environment."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import ROOT
from tests.e2e.conftest import system, system_env

__all__ = ["client_python", "client_wheel", "system", "system_env"]

CLIENT = ROOT / "clients" / "python"


def wheel_metadata(wheel: Path) -> dict[str, list[str]]:
    """The wheel's METADATA fields, each name to its values."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(name).decode())
    return {key: message.get_all(key) or [] for key in set(message.keys())}


def _closure(requirements: list[str]) -> set[str]:
    """The distributions `requirements` pull in, transitively, in this environment."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = metadata.distribution(req.name).metadata["Name"]
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        todo.extend(Requirement(r) for r in metadata.distribution(name).requires or [])
    return seen


def _link_distributions(names: set[str], into: Path) -> None:
    """Symlink each distribution's top-level files (its packages and its .dist-info)."""
    into.mkdir()
    for name in names:
        dist = metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in tops - {"..", "__pycache__"}:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (into / top).exists():
                (into / top).symlink_to(source)


@pytest.fixture(scope="session")
def client_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy (a build leaves files beside its sources)."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "python"
    shutil.copytree(
        CLIENT, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            *("-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"),
            *("--wheel-dir", str(out), str(source)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("wagate_client-*.whl")
    return wheel


@pytest.fixture(scope="session")
def client_python(client_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a fresh virtualenv holding the client and its declared closure."""
    root = tmp_path_factory.mktemp("venv")
    venv.create(root / "env", with_pip=True)
    python = root / "env" / "bin" / "python"
    subprocess.run(
        [
            str(python),
            *("-m", "pip", "install", "--quiet", "--no-deps", "--no-index"),
            str(client_wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    deps = root / "deps"
    _link_distributions(_closure(wheel_metadata(client_wheel)["Requires-Dist"]), deps)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "declared-dependencies.pth").write_text(f"{deps}\n")
    return python
