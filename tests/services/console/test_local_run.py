"""`make run` starts the console and prints where it is and how to sign in, as the README's
walkthrough says: the Procfile runs it, run.sh names its address (the settings' default) and
the token of this machine (tests/deploy/test_local_secrets.py), never the public default."""

from __future__ import annotations

from services.console.settings import DEVELOPMENT_TOKEN, ConsoleSettings
from tests.conftest import ROOT


def test_make_run_starts_the_console_and_prints_its_address_and_token() -> None:
    settings = ConsoleSettings()
    procfile = (ROOT / "deploy/local/Procfile").read_text().splitlines()
    assert "console: exec deploy/local/restarting.sh console python -m services.console" in procfile
    banner = (ROOT / "deploy/local/run.sh").read_text()
    address = f"http://127.0.0.1:{settings.http.port}"
    assert f"console     {address}" in banner and DEVELOPMENT_TOKEN not in banner
    readme = (ROOT / "README.md").read_text()
    assert f"<{address}>" in readme and "the token `make run` prints" in readme
    assert DEVELOPMENT_TOKEN not in readme
