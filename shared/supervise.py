"""The supervisor of a service's background loops: a loop that fails is logged, counted
(`wagate_loop_failures_total`) and started again after a back-off that doubles up to a cap;
after `max_failures` failures in a row (a run that lasted `healthy_s` resets the count) the
service reports not ready (`loop:<name>` in /readyz) and `gave_up` is set, so the service stops
and exits non-zero (`LoopsGaveUp`) for its own supervisor (systemd, Kubernetes, `make run`) to
start it again. A periodic step run by another framework's timer (faust's) is guarded the
same way with `step`. `watch_reach` keeps /readyz's `postgres` and `kafka` checks true to
what the service reaches at run time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import asyncpg
from aiokafka.client import AIOKafkaClient
from prometheus_client import CollectorRegistry, Counter, Gauge

from shared import logs
from shared.errors import WagateError
from shared.http import Readiness

log = logs.get(__name__)
Loop = Callable[[], Awaitable[None]]


class LoopsGaveUp(WagateError):
    """A background loop kept failing: the service stops, not ready, and exits non-zero so
    that whatever supervises the process starts it again."""


@dataclass(frozen=True)
class Backoff:
    base_s: float = 0.5
    cap_s: float = 30.0
    max_failures: int = 8
    healthy_s: float = 60.0  # a run this long resets the count of failures in a row

    def wait_s(self, failures: int) -> float:
        """The pause before the next start after `failures` failures in a row (1-based)."""
        return float(min(self.base_s * 2.0 ** max(failures - 1, 0), self.cap_s))


@dataclass
class Health:
    """Failures in a row of one loop, as the supervisor counts them."""

    name: str
    backoff: Backoff
    failures: int = 0

    def failed(self, ran_s: float) -> bool:
        """Count a failure after a run of `ran_s` seconds; True once the loop gave up."""
        self.failures = 1 if ran_s >= self.backoff.healthy_s else self.failures + 1
        return self.failures >= self.backoff.max_failures


@dataclass
class Supervisor:
    service: str
    registry: CollectorRegistry
    readiness: Readiness
    backoff: Backoff = Backoff()
    gave_up: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = ""
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _health: dict[str, Health] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._failures = Counter(
            "wagate_loop_failures_total",
            "Background loop failures (each restarted after a back-off).",
            ["service", "loop"],
            registry=self.registry,
        )
        self._down = Gauge(
            "wagate_loop_down",
            "1 while a background loop waits to restart or has given up.",
            ["service", "loop"],
            registry=self.registry,
        )

    def spawn(self, name: str, loop: Loop) -> asyncio.Task[None]:
        """Run `loop()` under supervision until it returns (its own stop) or is cancelled."""
        task = asyncio.create_task(self.keep(name, loop), name=f"{self.service}:{name}")
        self._tasks[name] = task
        return task

    def health(self, name: str) -> Health:
        found = self._health.get(name)
        if found is None:
            found = self._health[name] = Health(name, self.backoff)
            self._down.labels(self.service, name).set(0)
        return found

    def failed(self, name: str, exc: BaseException, ran_s: float) -> float | None:
        """Record a failure of `name`; the pause before it starts again, or None when the
        loop gave up (the service is then not ready and `gave_up` is set)."""
        health = self.health(name)
        self._failures.labels(self.service, name).inc()
        self._down.labels(self.service, name).set(1)
        if health.failed(ran_s):
            self.readiness.set(f"loop:{name}", False)
            self.reason = f"{name} failed {health.failures} times in a row: {exc!r}"
            log.error("background loop gave up", loop=name, failures=health.failures,
                      reason=repr(exc))  # fmt: skip
            self.gave_up.set()
            return None
        wait = self.backoff.wait_s(health.failures)
        log.error("background loop failed; restarting", loop=name, failures=health.failures,
                  retry_in_s=wait, reason=repr(exc), exc_info=exc)  # fmt: skip
        return wait

    def recovered(self, name: str) -> None:
        self._down.labels(self.service, name).set(0)

    async def keep(self, name: str, loop: Loop) -> None:
        """Run `loop()`, started again after each failure, until it returns or gives up."""
        self.health(name)
        while True:
            started = time.monotonic()
            try:
                await loop()
                return
            except Exception as exc:
                wait = self.failed(name, exc, time.monotonic() - started)
            if wait is None:
                return
            await asyncio.sleep(wait)
            self.recovered(name)

    async def step(self, name: str, job: Loop) -> None:
        """One tick of a periodic job run by someone else's timer: a failure is counted and
        logged (the next tick is the retry), a success resets the count."""
        health = self.health(name)
        try:
            await job()
        except Exception as exc:
            self.failed(name, exc, 0.0)
            return
        health.failures = 0
        self.recovered(name)

    def halting(self, stop: asyncio.Event) -> asyncio.Event:
        """An event set on SIGTERM (`stop`) or once a loop gave up: what a service's main
        loop runs until."""
        halt = asyncio.Event()

        async def wait() -> None:
            await until_stopped_or_gave_up(stop, self)
            halt.set()

        self._tasks["halting"] = asyncio.create_task(wait())
        return halt

    def check(self) -> None:
        """Raise `LoopsGaveUp` if a loop gave up (call once the service has stopped)."""
        if self.gave_up.is_set():
            raise LoopsGaveUp(f"{self.service}: {self.reason}")

    async def close(self) -> None:
        """Stop every loop still running (on the service's way out)."""
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def until_stopped_or_gave_up(stop: asyncio.Event, supervisor: Supervisor) -> None:
    """Wait for SIGTERM (`stop`) or a loop that gave up, whichever comes first."""
    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(supervisor.gave_up.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


Probe = Callable[[], Awaitable[object]]


def postgres_probe(pool: asyncpg.Pool) -> Probe:
    """Reach PostgreSQL through the service's pool."""

    async def probe() -> object:
        return await pool.fetchval("SELECT 1")

    return probe


def kafka_probe(client: AIOKafkaClient) -> Probe:
    """Reach the Kafka cluster: a metadata request through the service's client."""

    async def probe() -> object:
        return await client.fetch_all_metadata()

    return probe


async def watch_reach(
    readiness: Readiness,
    probes: Mapping[str, Probe],
    interval_s: float = 5.0,
    timeout_s: float = 5.0,
) -> None:
    """Keep each readiness check (`postgres`, `kafka`) saying whether its probe answers, at
    run time, not only at start; a change is logged once."""
    while True:
        for name, probe in probes.items():
            try:
                await asyncio.wait_for(probe(), timeout_s)
                ok, why = True, ""
            except Exception as exc:  # any failure to answer means out of reach
                ok, why = False, repr(exc)
            if readiness.checks.get(name) is not ok:
                (log.info if ok else log.warning)("reach changed", check=name, ok=ok, reason=why)
            readiness.set(name, ok)
        await asyncio.sleep(interval_s)
