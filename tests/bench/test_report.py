"""The benchmark's table: each figure beside its ratio to the baseline figure of its kind."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.measure import quantile_ms
from bench.report import Baseline, Figure, table, write

BASE = Baseline(rate=20_000.0, p50_ms=10.0, p99_ms=40.0, rss_mib=60.0)


def test_a_rate_is_a_share_of_the_baseline_rate_and_a_latency_a_multiple() -> None:
    assert Figure("ingest", "w", 500.0, "/s", "rate").ratio(BASE) == 0.025
    assert Figure("ingest", "p", 120.0, "ms", "p99").ratio(BASE) == 3.0
    assert Figure("ingest", "p", 5.0, "ms", "p50").ratio(BASE) == 0.5
    assert Figure("memory", "m", 90.0, "MiB", "rss").ratio(BASE) == 1.5
    assert math.isnan(Figure("x", "y", 1.0, "/s", "rate").ratio(Baseline(0.0, 1, 1, 1)))


def test_the_table_prints_every_figure_with_its_ratio() -> None:
    figures = [
        Figure("ingest", "webhooks", 500.0, "/s", "rate"),
        Figure("ingest", "p99", 120.0, "ms", "p99"),
    ]
    lines = table(figures, BASE).splitlines()
    assert [c.strip() for c in lines[0].split("|")[1:-1]] == [
        "part",
        "what",
        "figure",
        "vs bare Kafka",
    ]
    assert set(lines[1]) <= {"|", "-", " "}
    assert "500 /s" in lines[2] and "2.50 % of 20,000/s" in lines[2]
    assert "120 ms" in lines[3] and "3.0 x 40.0 ms p99" in lines[3]
    assert len({len(line) for line in lines}) == 1  # columns line up


def test_the_run_is_written_as_json_with_each_ratio(tmp_path: Path) -> None:
    figure = Figure("dispatch", "sends", 1000.0, "/s", "rate")
    path = write(tmp_path / "bench", [figure], BASE, quick=True, notes=["n"])
    body = json.loads(path.read_text())
    assert body["baseline"]["rate"] == 20_000.0 and body["quick"] is True
    assert body["figures"] == [{**body["figures"][0], "value": 1000.0, "ratio": 0.05}]
    assert body["machine"]["cpus"] >= 1 and body["notes"] == ["n"]


def test_quantiles_are_of_the_sorted_values_in_milliseconds() -> None:
    values = [0.001 * n for n in range(100, 0, -1)]
    assert math.isclose(quantile_ms(values, 0.5), 51.0)
    assert math.isclose(quantile_ms(values, 0.99), 100.0)
    assert math.isnan(quantile_ms([], 0.5))


def test_a_figure_without_a_kafka_counterpart_says_so_and_has_no_ratio(tmp_path: Path) -> None:
    figure = Figure("policy", "recovered", 41.5, "s", "none")
    assert figure.ratio(BASE) is None
    line = table([figure], BASE).splitlines()[2]
    assert "41.5 s" in line and "(no counterpart)" in line
    body = json.loads(write(tmp_path, [figure], BASE, quick=True, notes=[]).read_text())
    assert body["figures"][0]["ratio"] is None
