"""`make run`'s environment: development mode, and sealing keys of this machine's own, made
once under .local/ (the source holds none) and accepted by policy and dispatch."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from tests.conftest import ROOT

LIB = ROOT / "deploy/local/lib.sh"
PRINT_SETTINGS = (
    "from services.policy.settings import PolicySettings as P; "
    "from services.dispatch.settings import DispatchSettings as D; "
    "import json; p, d = P(), D(); "
    "print(json.dumps([p.development, p.refusals(), d.refusals(), "
    "[k.get_secret_value() for k in p.sealing_keys + d.sealing_keys]]))"
)


def _under_run_env(local: Path, code: str) -> str:
    """What Python `code` prints under the environment run.sh prepares (LOCAL = `local`)."""
    script = f'PROG=test; source "{LIB}"; development_env "$1" "$2"; exec "$2" -c "$3"'
    return subprocess.run(
        ["bash", "-euc", script, "bash", str(local), sys.executable, code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


def _run_env(local: Path) -> tuple[bool, list[str], list[str], list[str]]:
    """What policy's and dispatch's settings see there."""
    development, policy, dispatch, keys = json.loads(_under_run_env(local, PRINT_SETTINGS))
    return development, policy, dispatch, keys


def test_the_keys_are_made_once_and_accepted(tmp_path: Path) -> None:
    local = tmp_path / "local"
    development, policy, dispatch, keys = _run_env(local)
    assert development is True and policy == [] and dispatch == []
    assert len(keys) == 2 and keys[0] == keys[1]  # policy seals what dispatch opens
    Fernet(keys[0].encode())
    file = local / "secrets.env"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    made = file.read_text()
    assert _run_env(local)[3] == keys and file.read_text() == made  # not made again
    file.unlink()
    assert _run_env(local)[3] != keys  # deleting the file renews the key


def test_the_development_defaults_are_accepted_in_that_environment(tmp_path: Path) -> None:
    code = "from services.ingest.settings import IngestSettings as I; print(I().refusals())"
    assert _under_run_env(tmp_path, code).strip() == "[]"


def test_run_sh_prepares_that_environment_before_starting_the_services() -> None:
    text = (ROOT / "deploy/local/run.sh").read_text()
    assert 'development_env "$LOCAL" "$BIN/python"' in text
    assert text.index("development_env ") < text.index("honcho -f deploy/local/Procfile start")
