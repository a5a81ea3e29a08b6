"""Tokens from a mounted Secret: read at start, read again when the file changes (so a token
rotates without a restart), the last good tokens kept when the file turns bad."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.console.handlers import TokenFile
from services.console.settings import ConsoleSettings
from shared.errors import StartupError
from tests.conftest import ROOT


def _write(path: Path, *names: str) -> None:
    tokens = [{"name": n, "token": f"{n}-token-0123456789", "role": "operator"} for n in names]
    path.write_text(json.dumps(tokens))


def test_tokens_rotate_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    _write(path, "ana")
    now = [0.0]
    source = TokenFile(path, check_every_s=5, clock=lambda: now[0])
    assert [t.name for t in source.current()] == ["ana"]
    _write(path, "bob", "carla")
    now[0] = 1.0
    assert [t.name for t in source.current()] == ["ana"]  # not looked at again yet
    now[0] = 6.0
    assert [t.name for t in source.current()] == ["bob", "carla"]
    path.write_text("{broken")
    now[0] = 12.0
    assert [t.name for t in source.current()] == ["bob", "carla"]  # the last good ones


@pytest.mark.parametrize("content", [None, "{broken", '[{"name": "a", "token": "short"}]'])
def test_a_token_file_unusable_at_start_stops_the_start(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "tokens.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(StartupError, match="token file"):
        TokenFile(path).current()


SECRET = "s3cret-token-never-logged-0123"
OTHER = "another-token-also-unseen-456"


def _entry(token: str = SECRET, **fields: object) -> dict[str, object]:
    return {"name": "ana", "token": token, "role": "operator", **fields}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{broken " + SECRET.encode(), "is not JSON"),
        (b"[]", "lists no token"),
        (b'{"tokens": []}', "must be a JSON list of tokens, not a dict"),
        (b"[NaN]", "non-standard JSON literal NaN"),
        (json.dumps([_entry(role="admin")]).encode(), "entry 0: role: Input should be"),
        (json.dumps([_entry(), _entry(OTHER, name="bo"), _entry(name="cy")]).encode(),
         "entries 0 ('ana') and 2 ('cy') hold the same token"),
        (json.dumps([_entry(), "just a string"]).encode(), "entry 1: the entry:"),
        (json.dumps([_entry(), {"name": "bo"}]).encode(), "entry 1: token: Field required"),
        (json.dumps([_entry(extra=SECRET)]).encode(), "entry 0: extra: Extra inputs"),
        (json.dumps([_entry(token="short")]).encode(), "shorter than 16 characters"),
        (b"\xff\xfe" + SECRET.encode(), "utf-8"),
        (None, "No such file"),
    ],
)  # fmt: skip
def test_a_token_file_that_cannot_be_used_stops_the_start_with_exit_78(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    """Before connecting anywhere: one line naming the problem, and no token in it."""
    path = tmp_path / "tokens.json"
    if content is not None:
        path.write_bytes(content)
    env = {**os.environ, "WAGATE_DEVELOPMENT": "true", "CONSOLE_TOKENS_FILE": str(path),
           "CONSOLE_KAFKA__BOOTSTRAP": "127.0.0.1:9", "CONSOLE_POSTGRES__URL":
           "postgresql://nobody:nothing@127.0.0.1:9/none"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "services.console"], env=env, capture_output=True, timeout=60,
        cwd=ROOT, check=False,
    )  # fmt: skip
    said = (done.stdout + done.stderr).decode()
    assert done.returncode == 78, said
    assert problem in said and str(path) in said and "cannot start" in said
    assert SECRET not in said and OTHER not in said
    assert "unreachable" not in said  # refused before any connection was tried


def test_one_token_listed_twice_in_the_settings_is_refused() -> None:
    twice = [_entry(), _entry(name="bo")]
    with pytest.raises(ValidationError, match=r"entries 0 \('ana'\) and 1 \('bo'\)") as exc:
        ConsoleSettings(tokens=twice)
    assert SECRET not in str(exc.value)


def test_the_same_person_may_hold_two_tokens_while_one_rotates(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps([_entry(), _entry(OTHER)]))
    assert [t.name for t in TokenFile(path).current()] == ["ana", "ana"]
