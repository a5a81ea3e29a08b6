"""Ingest's signed webhooks per second: the real service (a process of the running system,
its own database and topics) fed by the load generator in another process, through
verification, journal, dedupe, normalisation and the acknowledged produce; flat out and at
fixed rates; and the CPU time the ingest process spent per webhook (webhooks per CPU second:
less bent by a busy machine than the wall-clock rate)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.measure import child_json, cpu_seconds
from bench.report import Figure
from tests.e2e.conftest import System

SECRET = "sandbox-app-secret"  # ingest's default app secret, the sandbox's too
SENDERS = 64
BATCH = 10


async def _load(
    url: str, pid: int, shape: str, mode: str, amount: float, seconds: float
) -> dict[str, Any]:
    """The load generator's answer, plus `per_cpu_second`: webhooks answered 200 per second
    of the ingest process's CPU time during the load."""
    before = cpu_seconds(pid)
    result = await child_json("bench.loadgen", url, SECRET, shape, mode, str(amount), str(seconds))
    spent = cpu_seconds(pid) - before
    if result["ok"] < result["sent"]:
        raise RuntimeError(f"ingest refused {result['sent'] - result['ok']} webhooks: {result}")
    result["per_cpu_second"] = result["ok"] / spent if spent > 0 else float("nan")
    return result


async def measure(system: System, seconds: float, rates: Sequence[float]) -> list[Figure]:
    """Load the running system's ingest: flat out (1 status, then batches), then at `rates`."""
    url = f"{system.url('ingest')}/webhook"
    pid = system.processes["ingest"].pid
    single = await _load(url, pid, "single", "flat", SENDERS, seconds)
    batch = await _load(url, pid, f"batch:{BATCH}", "flat", SENDERS, seconds)
    figures = [
        Figure(
            "ingest", f"1-status webhooks, {SENDERS} concurrent", single["per_second"], "/s", "rate"
        ),
        Figure(
            "ingest", f"1-status webhooks, {SENDERS} concurrent, p99", single["p99_ms"], "ms", "p99"
        ),
        Figure(
            "ingest",
            "1-status webhooks per second of ingest's CPU time",
            single["per_cpu_second"],
            "/s",
            "rate",
        ),
        Figure(
            "ingest",
            f"{BATCH}-status webhooks, {SENDERS} concurrent",
            batch["per_second"],
            "/s",
            "rate",
        ),
        Figure(
            "ingest",
            f"statuses in {BATCH}-status webhooks",
            batch["statuses_per_second"],
            "/s",
            "rate",
        ),
    ]
    for rate in rates:
        fixed = await _load(url, pid, "single", "rate", rate, seconds)
        figures += [
            Figure("ingest", f"1-status webhooks at {rate:g}/s, p50", fixed["p50_ms"], "ms", "p50"),
            Figure("ingest", f"1-status webhooks at {rate:g}/s, p99", fixed["p99_ms"], "ms", "p99"),
        ]
    return figures
