"""What the commands print: tables for a person, today's JSON lines for scripts, and exit
codes that are distinct and documented."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import socket
import sys
import threading
import time

import click
import pytest
from click.testing import CliRunner

from cli import output
from cli.main import main
from cli.output import cell, pairs_lines, render, table
from shared.runtime import EXIT_UNAVAILABLE
from tests.conftest import ROOT

ROWS = [
    {"name": "shipping_update", "language": "en_US", "status": "APPROVED"},
    {"name": "otp", "language": "pt_BR", "status": "PENDING", "quality": "GREEN"},
]


def test_a_table_aligns_columns_under_an_upper_case_header() -> None:
    assert table(ROWS) == [
        "NAME             LANGUAGE  STATUS    QUALITY",
        "shipping_update  en_US     APPROVED",
        "otp              pt_BR     PENDING   GREEN",
    ]
    assert table(ROWS, ["status", "name"])[1] == "APPROVED  shipping_update"
    assert table([]) == ["(none)"]


def test_a_table_fits_the_terminal_and_cuts_long_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    lines = table([{"id": "1", "detail": "x" * 200}])
    assert all(len(line) <= 40 for line in lines)
    assert lines[1].endswith("…")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (True, "yes"),
        (["WINDOW_CLOSED", 131026], "WINDOW_CLOSED, 131026"),
        ({"a": [1, 2]}, '{"a":[1,2]}'),
        ("evil\x1b[2Jname", "evil\\x1b[2Jname"),  # a terminal escape is shown, not obeyed
        ("c1\x9bcontrol", "c1\\x9bcontrol"),
        ("line\nbreak", "line\\x0abreak"),
        ("é ✓", "é ✓"),
    ],
)
def test_cells_show_control_characters_as_escapes(value: object, shown: str) -> None:
    assert cell(value, limit=None) == shown


def test_an_object_prints_as_aligned_pairs_and_one_nested_list_as_a_table() -> None:
    assert pairs_lines({"is_open": True, "closes_at": "2026-03-05T09:00:00Z"}) == [
        "is_open    yes",
        "closes_at  2026-03-05T09:00:00Z",
    ]
    lines = render({"count": 2, "templates": ROWS})
    assert lines[0] == "count  2" and lines[1].startswith("NAME")
    assert render("plain") == ["plain"]


def test_off_a_terminal_the_output_is_todays_json_and_table_is_asked_for() -> None:
    runner = CliRunner()
    as_json = runner.invoke(main, ["topics", "list", "--json"])
    assert json.loads(as_json.output.splitlines()[0])["name"] == "wagate.webhooks.raw.v1"
    tsv = runner.invoke(main, ["topics", "list"])
    assert tsv.output.splitlines()[0].split("\t")[:3] == ["wagate.webhooks.raw.v1", "12", "delete"]
    tabled = runner.invoke(main, ["--table", "topics", "list"])
    assert tabled.output.splitlines()[0].split() == [
        "NAME",
        "PARTITIONS",
        "COMPACTED",
        "KEY",
        "DOC",
    ]
    both = runner.invoke(main, ["--table", "--json", "topics", "list"])
    assert both.exit_code == 2 and "not both" in both.output


def test_every_command_takes_json_after_its_name() -> None:
    def leaves(command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        if isinstance(command, click.Group):
            return [p for n, c in command.commands.items() for p in leaves(c, (*path, n))]
        return [path]

    for path in leaves(main, ()):
        command = main
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        opts = {o for p in command.params for o in p.opts}
        assert "--json" in opts, f"wagate {' '.join(path)} has no --json"


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert re.fullmatch(r"wagate \d+\.\d+\.\d+\S*\n", result.output)


def test_exit_codes_are_distinct_and_the_readme_lists_each() -> None:
    codes = {
        "done": output.EXIT_OK,
        "failed": output.EXIT_FAILED,
        "usage": output.EXIT_USAGE,
        "refused": output.EXIT_REFUSED,
        "pending": output.EXIT_PENDING,
        "unavailable": EXIT_UNAVAILABLE,
    }
    assert len(set(codes.values())) == len(codes) == len(output.EXIT_CODES)
    assert (codes["usage"], codes["unavailable"]) == (2, 69)
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Exit codes") :]
    listed = {int(m) for m in re.findall(r"^\| `(\d+)` \|", section, re.MULTILINE)}
    assert listed == set(output.EXIT_CODES)
    doc = output.__doc__ or ""
    assert {int(m) for m in re.findall(r"^ {4}(\d+) ", doc, re.MULTILINE)} == set(output.EXIT_CODES)


def _slow_reader() -> tuple[socket.socket, threading.Thread]:
    """A local server that reads what one client sends, slowly, until the client closes."""
    server = socket.create_server(("127.0.0.1", 0))

    def read() -> None:
        conn, _ = server.accept()
        with conn:
            time.sleep(0.05)  # the client closes with most of its data still unsent
            while conn.recv(1 << 16):
                pass

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return server, thread


def test_a_command_s_connections_finish_closing_before_its_loop_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leaked: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda report: leaked.append(report.object))
    server, reader = _slow_reader()

    async def closes_with_data_unsent() -> None:
        _, writer = await asyncio.open_connection(*server.getsockname())
        writer.write(b"x" * (8 << 20))  # more than the socket's buffers: the rest waits
        writer.close()  # closing: the transport ends once the rest is flushed

    with server:
        output.run_async(closes_with_data_unsent())
        reader.join(5)
        gc.collect()
    assert not reader.is_alive()
    assert leaked == []  # no transport left closing, nor its socket, when the loop ended
