"""`make run`'s environment: development mode, and sealing keys and a console token of this
machine's own, made once under .local/ (the source holds no sealing key; the console's
development token is public) and accepted by policy, dispatch and the console."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from services.console.settings import DEVELOPMENT_TOKEN
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
    return _bash(script, local, code)


def _bash(script: str, local: Path, *args: str) -> str:
    """What bash prints running `script` with $1 = `local` and $2 = this Python, then `args`."""
    return subprocess.run(
        ["bash", "-euc", script, "bash", str(local), sys.executable, *args],
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


CONSOLE_TOKENS = (
    "from services.console.settings import ConsoleSettings as C; import json; c = C(); "
    "print(json.dumps([[t.token.get_secret_value(), t.role.value] for t in c.tokens]))"
)


def _console_tokens(local: Path) -> list[list[str]]:
    tokens: list[list[str]] = json.loads(_under_run_env(local, CONSOLE_TOKENS))
    return tokens


def test_the_console_token_is_this_machines_own_made_once_and_the_one_run_sh_prints(
    tmp_path: Path,
) -> None:
    local = tmp_path / "local"
    [[token, role]] = _console_tokens(local)
    assert role == "operator" and len(token) >= 16 and token != DEVELOPMENT_TOKEN
    assert _console_tokens(local) == [[token, role]]  # not made again
    printed = f'PROG=test; source "{LIB}"; development_env "$1" "$2"; console_token "$2"'
    assert _bash(printed, local).strip() == token
    banner = (ROOT / "deploy/local/run.sh").read_text()
    assert 'CONSOLE_TOKEN=$(console_token "$BIN/python")' in banner
    assert "sign in with the token $CONSOLE_TOKEN" in banner


def test_a_secrets_file_made_before_the_console_gets_its_token_added(tmp_path: Path) -> None:
    local = tmp_path / "local"
    _run_env(local)
    file = local / "secrets.env"
    older = "".join(line for line in file.read_text().splitlines(True) if "CONSOLE" not in line)
    file.write_text(older)
    [[token, _]] = _console_tokens(local)
    assert token != DEVELOPMENT_TOKEN
    assert file.read_text().startswith(older)  # the sealing keys are kept
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
