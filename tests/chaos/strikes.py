"""The faults a chaos run strikes the wired system with, each at a moment from the seed, and
the time the system takes to recover from each.

- `kill:<service>`: SIGKILL, then started again (no drain, no final commit);
- `sigstop`: dispatch frozen (SIGSTOP) past its consumer session timeout, then SIGCONT: the
  group drops it meanwhile, and its commits after waking are refused;
- `broker`, `database`: a restart of the Kafka broker or of PostgreSQL, modelled by cutting
  every connection through the forwarder the services reach it by (`tests.e2e.proxy`) and
  refusing new ones for `OUTAGE_S`: the shared servers themselves stay up;
- `throttle`: the sandbox answers every send 130429 for `THROTTLED_S`, and on until it has
  refused at least one (a run whose sends are all waiting out a timeout would otherwise pass
  through the burst untouched), then the run's own faults are back.

Recovery is the time from a fault's end (the process started again, woken, the forwarder
open again) until every service answers /readyz 200 and a delivery update has been heard
since the fault ended (or every intent has its outcome)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from tests.e2e.conftest import SERVICES, System
from tests.e2e.proxy import Proxy

SESSION_TIMEOUT_S = 10.0  # aiokafka's default session timeout of dispatch's consumer
FROZEN_S = SESSION_TIMEOUT_S + 5.0
OUTAGE_S = 5.0
THROTTLED_S = 3.0
THROTTLE_CAP_S = 30.0  # the burst holds this long at most for its first refusal
RECOVERY_CAP_S = 180.0


@dataclass
class Strike:
    kind: str
    at: int  # once this many intents have an update
    lasted_s: float = 0.0
    recovered_s: float | None = None


@dataclass
class Striker:
    """Strikes its schedule in order as the intents are heard of, one fault at a time."""

    system: System
    kafka: Proxy
    database: Proxy
    heard: Callable[[], int]
    done: Callable[[], bool]
    schedule: list[Strike]
    faults: dict[str, object] = field(default_factory=dict)  # the sandbox's, between strikes
    last_update: list[float] = field(default_factory=lambda: [0.0])

    async def run(self) -> None:
        for strike in self.schedule:
            while self.heard() < strike.at and not self.done():
                await asyncio.sleep(0.1)
            started = time.monotonic()
            await self._strike(strike.kind)
            ended = time.monotonic()
            strike.lasted_s = ended - started
            strike.recovered_s = await self._recovered(ended)

    async def _strike(self, kind: str) -> None:
        if kind.startswith("kill:"):
            await self.system.restart_killed(kind.removeprefix("kill:"))
        elif kind == "sigstop":
            proc = self.system.processes["dispatch"]
            proc.send_signal(signal.SIGSTOP)
            try:
                await asyncio.sleep(FROZEN_S)
            finally:
                proc.send_signal(signal.SIGCONT)
        elif kind in ("broker", "database"):
            proxy = self.kafka if kind == "broker" else self.database
            await proxy.cut()
            try:
                await asyncio.sleep(OUTAGE_S)
            finally:
                await proxy.open()
        elif kind == "throttle":
            burst = {**self.faults, "throttle_rate": 1, "throttle_window_s": THROTTLED_S}
            before = await self._throttled()
            await self._sandbox_faults(burst)
            try:
                await asyncio.sleep(THROTTLED_S)
                deadline = time.monotonic() + THROTTLE_CAP_S
                while await self._throttled() <= before and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
            finally:
                await self._sandbox_faults(self.faults)
        else:
            raise ValueError(f"no such fault: {kind}")

    async def _sandbox_faults(self, faults: dict[str, object]) -> None:
        url = f"{self.system.url('sandbox')}/_sandbox/faults"
        async with aiohttp.ClientSession() as session, session.put(url, json=faults) as resp:
            assert resp.status == 200, await resp.text()

    async def _throttled(self) -> float:
        """How many sends the sandbox has answered 130429 so far."""
        url = f"{self.system.url('sandbox')}/metrics"
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            text = await resp.text()
        return injected_faults(text).get("throttle", 0.0)

    async def _recovered(self, since: float) -> float | None:
        deadline = since + RECOVERY_CAP_S
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while time.monotonic() < deadline:
                ready = [await _ready(session, self.system.url(s)) for s in SERVICES]
                if all(ready) and (self.last_update[0] > since or self.done()):
                    return time.monotonic() - since
                await asyncio.sleep(0.25)
        return None


async def _ready(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(f"{url}/readyz") as resp:
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


def described(schedule: list[Strike]) -> list[tuple[str, str]]:
    """One table row per fault: when it struck, how long it lasted, the recovery time."""
    return [
        (
            f"fault {s.kind}@{s.at}",
            f"lasted {s.lasted_s:.1f} s, recovered in "
            + ("never" if s.recovered_s is None else f"{s.recovered_s:.1f} s"),
        )
        for s in schedule
    ]


def injected_faults(metrics: str) -> dict[str, float]:
    """The sandbox's faults by kind (of API calls and webhooks), from its
    `wagate_sandbox_faults_total`."""
    prefix = 'wagate_sandbox_faults_total{fault="'
    return {
        line[len(prefix) :].split('"', 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith(prefix)
    }
