"""`python -m bench --quick` runs every part against the real servers and prints one table with
a row of each part, each figure beside its ratio to the bare-Kafka baseline, and writes the
same run as JSON (figures printed, not held to targets)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import local
from bench.e2e_bench import ON_THE_WAY
from bench.measure import servers
from bench.report import PARTS
from tests.conftest import ROOT
from tests.e2e.conftest import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(600)]


def test_the_quick_bench_prints_every_part_and_writes_the_run(
    kafka_bootstrap: str, database_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP": kafka_bootstrap, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=580,
    )  # fmt: skip
    print(done.stdout)
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ")]
    header, body = rows[0], rows[2:]
    assert [c.strip() for c in header] == ["part", "what", "figure", "vs bare Kafka"]
    assert {r[0].strip() for r in body} == set(PARTS)
    assert all(r[3].strip() for r in body), "a figure without its ratio to the baseline"

    (written,) = tmp_path.glob("*.json")
    run = json.loads(written.read_text())
    assert run["quick"] is True and run["notes"] == []
    figures = run["figures"]
    assert len(figures) == len(body)
    assert {f["part"] for f in figures} == set(PARTS)
    assert all(math.isfinite(f["value"]) and f["value"] > 0 for f in figures), figures
    assert all(math.isfinite(f["ratio"]) for f in figures if f["against"] != "none")
    assert all(f["ratio"] is None for f in figures if f["against"] == "none")
    policy = {f["what"] for f in figures if f["part"] == "policy"}
    assert "faust worker, 2,000 intents pre-filled, 100 windows, 5 templates" in policy
    assert "faust worker, CPU per decision" in policy
    assert "20,000 windows on the changelog, worker start -> deciding" in policy
    assert "20,000 windows recovered, resident" in policy
    dispatch = {f["what"] for f in figures if f["part"] == "dispatch"}
    assert {"statuses applied (sent, delivered, read)", "CPU per status applied"} <= dispatch
    assert run["baseline"]["rate"] > 0
    e2e = {f["what"]: f["value"] for f in figures if f["part"] == "end to end"}
    cpu = {w: v for w, v in e2e.items() if w.startswith("burst CPU per intent, ")}
    named = {w.removeprefix("burst CPU per intent, ") for w in cpu}
    assert {*ON_THE_WAY, "all of them"} <= named, sorted(e2e)
    assert {"Kafka broker", "PostgreSQL"} & named == set(servers(local())), named
    together = cpu.pop("burst CPU per intent, all of them")
    assert together == pytest.approx(sum(cpu.values()))
    assert 0 < e2e["burst, cores kept busy"] <= (os.cpu_count() or 1) * 1.05
    memory = {f["what"] for f in figures if f["part"] == "memory"}
    assert memory == {f"{s}, {w}" for s in SERVICES for w in ("idle", "peak under load")}
