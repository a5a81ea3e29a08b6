"""What the README shows of the command line and the client is what they do: the walkthrough's
terminal lines are the printers' own, and the Python snippet everywhere is the client README's
(which a test runs against the wired system)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cli.follow import update_line
from cli.output import render
from cli.send_cmd import send
from shared.events.delivery import DeliveryUpdated
from tests.clients.test_readme_e2e import readme_snippet
from tests.conftest import ROOT

README = ROOT / "README.md"
UPDATE = re.compile(
    r"^(\d\d):(\d\d):(\d\d)  (\S+) +(\S+)(?:  ([A-Z_0-9]+(?: [A-Z_0-9]+)*))?(?:  (.+))?$"
)


def _console_lines() -> list[str]:
    blocks = re.findall(r"```console\n(.*?)```", README.read_text(), re.DOTALL)
    return [line for block in blocks for line in block.splitlines()]


def test_the_walkthroughs_update_lines_are_what_send_prints() -> None:
    lines = [line for line in _console_lines() if UPDATE.match(line)]
    assert len(lines) >= 7
    for line in lines:
        match = UPDATE.match(line)
        assert match is not None
        hour, minute, second, state, wamid, reasons, detail = match.groups()
        update = DeliveryUpdated(
            intent_id="i",
            phone_number_id="1",
            to="2",
            state=state,  # type: ignore[arg-type]
            wamid=None if wamid == "-" else wamid,
            reasons=reasons.split() if reasons else [],
            detail=detail or "",
            occurred_at=datetime(2026, 3, 5, int(hour), int(minute), int(second), tzinfo=UTC),
        )
        assert update_line(update) == line


def test_the_walkthroughs_other_lines_are_what_the_commands_print() -> None:
    lines = _console_lines()
    ids = [line for line in lines if line.startswith("intent ")]
    assert len(ids) == 3 and all(re.fullmatch(r"intent [0-9a-f-]{36}", line) for line in ids)
    wamid = next(line for line in lines if line.startswith("id  "))
    assert render({"id": wamid.split()[1]}) == [wamid]
    assert "exit 3: refused by policy" in lines


def test_wait_without_a_value_follows_for_a_minute() -> None:
    text = send.commands["text"]
    base = ["--from", "1", "--to", "2", "--body", "x"]
    assert text.make_context("text", [*base, "--wait"]).params["wait_s"] == 60.0
    assert text.make_context("text", [*base, "--wait", "5"]).params["wait_s"] == 5.0
    assert text.make_context("text", base).params["wait_s"] == 0


def test_the_python_snippet_is_the_one_the_client_readme_runs() -> None:
    tested = readme_snippet(ROOT / "clients/python/README.md", "## Send a message and follow it")
    assert readme_snippet(README, "### From Python") == tested
    assert readme_snippet(ROOT / "docs/contract.md", "## From Python") == tested
    assert "shared" not in tested
