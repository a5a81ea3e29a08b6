"""Progress bars on long work, on stderr and only on a terminal: stdout stays the answer
scripts read. The commands run as the installed `wagate`, their stderr on a pseudo-terminal."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from shared.settings import KafkaSettings
from tests.cli.conftest import service
from tests.services.ingest.journal import right_now, write_journal
from tests.services.templates.conftest import KEY, WABA, Service

__all__ = ["service"]
WAGATE = str(Path(sys.executable).parent / "wagate")


async def _run_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout (a pipe) and stderr (a pseudo-terminal) of `wagate ARGS`."""
    leader, follower = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        WAGATE,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "COLUMNS": "120"},
    )
    os.close(follower)
    out = await asyncio.wait_for(proc.communicate(), 120)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    return await proc.wait(), out[0].decode(), screen.decode(errors="replace")


@pytest.mark.kafka
@pytest.mark.timeout(180)
async def test_replay_shows_its_progress_through_the_journal(kafka_settings: KafkaSettings) -> None:
    now = right_now()
    await write_journal(kafka_settings, now)
    since = (now - timedelta(hours=3)).isoformat()
    base = ["--bootstrap", kafka_settings.bootstrap, "--topic-prefix", kafka_settings.topic_prefix]

    code, out, screen = await _run_on_a_terminal(*base, "replay", "--since", since, "--dry-run")

    assert code == 0, screen
    assert json.loads(out)["webhooks"] == 3  # stdout: the answer alone
    done = re.findall(r"journal\s+\[#+\]\s+(\d+)/(\d+)", screen)
    assert done and done[-1][0] == done[-1][1], screen

    proc = await asyncio.create_subprocess_exec(
        WAGATE,
        *base,
        "replay",
        "--since",
        since,
        "--dry-run",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert err == b""  # off a terminal: no bar


@pytest.mark.postgres
@pytest.mark.timeout(180)
async def test_syncing_several_accounts_shows_a_bar(service: Service) -> None:
    url = str(service.client.make_url("")).rstrip("/")
    args = ["templates", "--url", url, "--api-key", KEY, "sync", WABA, "102290129340399"]

    code, out, screen = await _run_on_a_terminal(*args)

    assert code == 0, screen
    answers = [json.loads(line) for line in out.splitlines()]
    assert [set(a) >= {"added", "changed", "missing"} for a in answers] == [True, True]
    assert re.search(r"accounts\s+\[#+\]\s+2/2", screen), screen


@pytest.mark.kafka
@pytest.mark.timeout(180)
async def test_a_consent_import_shows_its_progress_row_by_row(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    rows = 1200  # more than one batch, so the bar moves before it ends
    lines = ["phone_number_id,customer,category,opted_in,at,source"] + [
        f"106540352242922,1415{n:07d},all,true,2026-01-02T09:00:00Z,signup form"
        for n in range(rows)
    ]
    path = tmp_path / "opt-ins.csv"
    path.write_text("\n".join(lines) + "\n")
    base = ["--bootstrap", kafka_settings.bootstrap, "--topic-prefix", kafka_settings.topic_prefix]

    code, out, screen = await _run_on_a_terminal(*base, "consent", "import", str(path))

    assert code == 0, screen
    assert json.loads(out)["produced"] == rows  # stdout: the summary alone
    done = [(int(a), int(b)) for a, b in re.findall(r"rows\s+\[[#-]+\]\s+(\d+)/(\d+)", screen)]
    assert done and done[-1] == (rows, rows), screen
    assert any(a < rows for a, _ in done), screen  # a step shown before the end
