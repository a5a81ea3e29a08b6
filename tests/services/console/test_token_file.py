"""Tokens from a mounted Secret: read at start, read again when the file changes (so a token
rotates without a restart), the last good tokens kept when the file turns bad."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.console.handlers import TokenFile
from shared.errors import StartupError


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
