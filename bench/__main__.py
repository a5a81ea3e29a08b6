"""`python -m bench [--quick] [--profile] [--out DIR]`: one run, one table, every figure beside
its ratio to bare Kafka measured in the same run; the run is also written as
`DIR/<timestamp>.json` (DIR: `$WAGATE_LOCAL/bench`, by default `.local/bench`).

KAFKA_BOOTSTRAP and DATABASE_URL pick the servers (the local ones by default); every topic and
database the run makes is its own and is deleted afterwards. It exits 1 when a part failed,
after printing what the others measured.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from bench import (
    dispatch_bench,
    e2e_bench,
    ingest_bench,
    peer_bench,
    policy_bench,
    report,
    status_bench,
)
from bench.measure import ROOT, PeakRss, child_json, rss_mib, servers
from bench.report import PARTS, Baseline, Figure
from bench.system import running
from tests.e2e.conftest import SERVICES

try:
    from pyinstrument import Profiler
except ImportError:  # the `bench` extra: --profile needs it
    Profiler = None

DEFAULT_DATABASE_URL = "postgresql://wagate:wagate@127.0.0.1:55432/wagate"


@dataclass(frozen=True)
class Sizes:
    baseline_events: int
    latency_rate: float  # the baseline's and the fixed-rate latencies' pace
    seconds: float  # of each timed load
    decisions: int
    conversations: int  # in policy's tables
    templates: int
    sends: int
    ingest_rates: tuple[float, ...]
    e2e_rates: tuple[float, ...]
    burst: int
    peer_bodies: int
    worker_decisions: int  # pre-filled for the faust worker
    windows: int  # on the windows changelog, recovered by a worker
    worker_tables: tuple[int, int]  # conversations and templates in the worker's tables


FULL = Sizes(
    30_000, 200, 5, 20_000, 20_000, 200, 3000, (250, 1000), (100, 400, 800), 3000, 5000,
    20_000, 1_000_000, (20_000, 200),
)  # fmt: skip
QUICK = Sizes(
    3000, 100, 1, 2000, 1000, 50, 300, (100,), (20,), 40, 500, 2000, 20_000, (100, 5)
)  # fmt: skip


class Run:
    def __init__(self, sizes: Sizes, bootstrap: str, database_url: str, profile_to: Path | None):
        self.sizes = sizes
        self.bootstrap = bootstrap
        self.database_url = database_url
        self.profile_to = profile_to
        self.figures: list[Figure] = []
        self.failed: list[str] = []

    async def part(self, name: str, measure: Callable[[], Awaitable[list[Figure]]]) -> None:
        print(f"measuring {name}...", file=sys.stderr, flush=True)
        try:
            self.figures += await measure()
        except Exception:  # one part's failure is reported; the others still print
            self.failed.append(name)
            traceback.print_exc()

    async def profiled(self, name: str, work: Awaitable[object]) -> None:
        if self.profile_to is None or Profiler is None:
            await work
            return
        profiler = Profiler(async_mode="enabled")
        profiler.start()
        try:
            await work
        finally:
            profiler.stop()
            self.profile_to.mkdir(parents=True, exist_ok=True)
            text = profiler.output_text(unicode=False, color=False)
            (self.profile_to / f"profile-{name}.txt").write_text(text)

    async def baseline(self) -> Baseline:
        s = self.sizes
        figures = await child_json(
            "bench.baseline", self.bootstrap, str(s.baseline_events), str(s.latency_rate),
            str(s.seconds),
        )  # fmt: skip
        base = Baseline(**figures)
        self.figures += [
            Figure("baseline", "consume -> decode -> produce, flat out", base.rate, "/s", "rate"),
            Figure(
                "baseline", f"pass-through at {s.latency_rate:g}/s, p50", base.p50_ms, "ms", "p50"
            ),
            Figure(
                "baseline", f"pass-through at {s.latency_rate:g}/s, p99", base.p99_ms, "ms", "p99"
            ),
            Figure("baseline", "pass-through process, resident", base.rss_mib, "MiB", "rss"),
        ]
        return base

    async def policy(self) -> list[Figure]:
        s = self.sizes
        pure = policy_bench.pure(s.decisions, s.templates)
        harness = await policy_bench.filled_harness(s.conversations, s.templates)
        rates: list[float] = []

        async def handled() -> None:
            rates.append(
                await policy_bench.handled(harness, s.decisions, s.conversations, s.templates)
            )

        await self.profiled("policy", handled())
        handled_tables = f"{s.conversations:,} windows, {s.templates} templates"
        conversations, templates = s.worker_tables
        tables = f"{conversations:,} windows, {templates} templates"
        worker = (
            await child_json(
                "bench.policy_worker_bench",
                self.bootstrap,
                "decisions",
                str(s.worker_decisions),
                str(conversations),
                str(templates),
            )
            if s.worker_decisions
            else None
        )
        recovered = await child_json(
            "bench.policy_worker_bench", self.bootstrap, "windows", str(s.windows), timeout_s=1800
        )
        windows = f"{s.windows:,} windows"
        figures = [
            Figure("policy", "rules.decide, pure", pure, "/s", "rate"),
            Figure("policy", f"PolicyHandlers.on_intent, {handled_tables}", rates[0], "/s", "rate"),
        ]
        if worker is not None:
            figures += [
                Figure(
                    "policy",
                    f"faust worker, {s.worker_decisions:,} intents pre-filled, {tables}",
                    worker["rate"],
                    "/s",
                    "rate",
                ),
                Figure("policy", "faust worker, CPU per decision", worker["cpu_us"], "us", "none"),
            ]
        return [
            *figures,
            Figure(
                "policy",
                f"{windows} on the changelog, worker start -> deciding",
                recovered["ready_s"],
                "s",
                "none",
            ),
            Figure("policy", f"{windows} recovered, resident", recovered["rss_mib"], "MiB", "rss"),
        ]

    async def dispatch(self) -> list[Figure]:
        results: list[dispatch_bench.Result] = []

        async def send() -> None:
            results.append(await dispatch_bench.one_number(self.database_url, self.sizes.sends))

        await self.profiled("dispatch", send())
        result = results[0]
        applied = await status_bench.statuses_applied(
            self.database_url, self.bootstrap, self.sizes.sends
        )
        return [
            Figure("dispatch", "sends, 1 number, limits lifted", result.rate, "/s", "rate"),
            Figure("dispatch", "send p99 (Cloud API stand-in)", result.p99_ms, "ms", "p99"),
            Figure(
                "dispatch", "statuses applied (sent, delivered, read)", applied.rate, "/s", "rate"
            ),
            Figure("dispatch", "CPU per status applied", applied.cpu_us_per_status, "us", "none"),
        ]

    async def peer(self) -> list[Figure]:
        figures = []
        for kind, rates in peer_bench.run(self.sizes.peer_bodies).items():
            figures += [
                Figure(
                    "peer",
                    f"{kind} webhook -> event, wagate's normaliser",
                    rates["wagate"],
                    "/s",
                    "rate",
                ),
                Figure(
                    "peer", f"{kind} webhook -> typed update, pywa", rates["pywa"], "/s", "rate"
                ),
            ]
        return figures

    async def system(self) -> list[Figure]:
        """Ingest, then end to end, on one running system; memory sampled around both."""
        s = self.sizes
        env = e2e_bench.LIFTED
        async with running(self.bootstrap, self.database_url, SERVICES, env) as system:
            pids = {name: proc.pid for name, proc in system.processes.items()}
            idle = {name: rss_mib(pid) for name, pid in pids.items()}
            async with PeakRss(pids) as peak:
                await self.part(
                    "ingest", lambda: ingest_bench.measure(system, s.seconds, s.ingest_rates)
                )
                await self.part(
                    "end to end",
                    lambda: e2e_bench.measure(
                        system, s.e2e_rates, s.seconds, s.burst, servers(local())
                    ),
                )
        return [
            Figure("memory", f"{name}, {when}", value, "MiB", "rss")
            for name in SERVICES
            for when, value in (("idle", idle[name]), ("peak under load", peak.peak[name]))
        ]


async def run(args: argparse.Namespace) -> int:
    sizes = QUICK if args.quick else FULL
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP", "localhost:9092")
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    this = Run(sizes, bootstrap, database_url, args.out if args.profile else None)
    base = await this.baseline()
    await this.part("policy", this.policy)
    await this.part("dispatch", this.dispatch)
    await this.part("peer", this.peer)
    await this.part("memory", this.system)
    figures = sorted(this.figures, key=lambda f: PARTS.index(f.part))
    print(report.table(figures, base))
    notes = [f"{name} failed (see the run's output)" for name in this.failed]
    path = report.write(args.out, figures, base, args.quick, notes)
    print(f"written to {path}")
    for note in notes:
        print(note, file=sys.stderr)
    return 1 if this.failed else 0


def local() -> Path:
    """Where the project's scripts keep what they run (`WAGATE_LOCAL`, `.local` by default)."""
    return Path(os.environ.get("WAGATE_LOCAL", ROOT / ".local"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="each part briefly (CI)")
    parser.add_argument("--profile", action="store_true", help="profile policy and dispatch")
    parser.add_argument("--out", type=Path, default=local() / "bench")
    args = parser.parse_args()
    # the services log every event; in this process (policy's and dispatch's handlers run here)
    # that would be the terminal's cost, not theirs
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
