"""End to end through the real services and the sandbox: intents produced to customers whose
windows are open (each wrote first, through the sandbox's signed webhooks), followed on the
delivery topic to `accepted` and to `delivered` (the sandbox's status webhooks flowing back
through ingest and dispatch), at fixed rates and then flat out for the saturation rate, with the
CPU time each process on an intent's way (the services, the sandbox, and the broker and
PostgreSQL when this machine runs them) spent per intent of that burst; each service's resident
size is sampled around it by the caller."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp

from bench.measure import CpuSplit, quantile_ms
from bench.report import Figure
from bench.system import until_metric
from shared.client import WagateClient
from shared.events.intents import OutboundIntentSubmitted, TextContent
from tests.e2e.conftest import System

PNID = "106540352242922"
LIFTED = {  # limits lifted: the sandbox and dispatch both allow far more than is sent
    "SANDBOX_THROUGHPUT_MPS": "100000",
    "DISPATCH_RATES__DEFAULT_MPS": "100000",
    "SANDBOX_WEBHOOK_POSTERS": "8",  # as Meta posts webhooks: several at once, not in turn
}
ON_THE_WAY = ("ingest", "policy", "dispatch", "sandbox")  # templates is not: it only serves


@dataclass
class Tracker:
    """When each intent was produced, and first seen `accepted` and `delivered`."""

    sent: dict[str, float] = field(default_factory=dict)
    accepted: dict[str, float] = field(default_factory=dict)
    delivered: dict[str, float] = field(default_factory=dict)
    other: dict[str, str] = field(default_factory=dict)  # intents that ended otherwise

    def seen(self, intent_id: str, state: str) -> None:
        now = time.perf_counter()
        if state == "accepted":
            self.accepted.setdefault(intent_id, now)
        elif state == "delivered":
            self.delivered.setdefault(intent_id, now)
        elif state in ("rejected", "failed", "expired", "not_sent"):
            self.other[intent_id] = state

    def latencies(self, ids: Sequence[str], of: dict[str, float]) -> list[float]:
        return [of[i] - self.sent[i] for i in ids if i in of]


def customers(count: int) -> list[str]:
    return [f"1650{n:07d}" for n in range(count)]


async def open_windows(system: System, who: Sequence[str], timeout_s: float) -> None:
    """Each customer writes first (the sandbox signs the webhook; policy opens the window)."""
    gate = asyncio.Semaphore(16)
    url = f"{system.url('sandbox')}/sandbox/customer-messages"
    async with aiohttp.ClientSession() as session:

        async def write(customer: str) -> None:
            async with (
                gate,
                session.post(
                    url, json={"phone_number_id": PNID, "from": customer, "text": "hi"}
                ) as resp,
            ):
                resp.raise_for_status()

        await asyncio.gather(*(write(c) for c in who))
    await until_metric(system, "policy", "wagate_policy_windows_updated_total", len(who), timeout_s)


def intents(who: Sequence[str], tag: str) -> list[OutboundIntentSubmitted]:
    return [
        OutboundIntentSubmitted(
            intent_id=f"bench-{tag}-{n}", phone_number_id=PNID, to=c,
            content=TextContent(body=f"Your order {n} has shipped."), priority="notification",
        )
        for n, c in enumerate(who)
    ]  # fmt: skip


async def _produce(
    client: WagateClient,
    tracker: Tracker,
    batch: Sequence[OutboundIntentSubmitted],
    rate: float | None,
) -> None:
    """At `rate` per second (open loop), or all at once when None."""
    started = time.perf_counter()
    sends = []
    for n, intent in enumerate(batch):
        if rate is not None:
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        tracker.sent[intent.intent_id] = time.perf_counter()
        sends.append(asyncio.create_task(client.send(intent)))
    await asyncio.gather(*sends)


async def _settled(tracker: Tracker, ids: Sequence[str], timeout_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            while not all(i in tracker.delivered or i in tracker.other for i in ids):  # noqa: ASYNC110
                await asyncio.sleep(0.05)


async def measure(
    system: System,
    rates: Sequence[float],
    seconds: float,
    burst: int,
    servers: Mapping[str, int] | None = None,
) -> list[Figure]:
    """Intents at each of `rates` for `seconds`, then `burst` at once (the saturation rate,
    and the CPU per intent of each process in `ON_THE_WAY` and in `servers`, name -> pid)."""
    phases = [(rate, int(rate * seconds)) for rate in rates]
    who = customers(sum(n for _, n in phases) + burst)
    await open_windows(system, who, timeout_s=60 + len(who) / 20)
    everything = intents(who, "x")
    tracker = Tracker()
    figures: list[Figure] = []
    async with (
        WagateClient(system.kafka) as client,
        client.follow([i.intent_id for i in everything]) as stream,
    ):

        async def follow() -> None:
            async for update in stream:
                tracker.seen(update.intent_id, update.state)

        following = asyncio.create_task(follow())
        start = 0
        for rate, count in phases:
            batch = everything[start : start + count]
            start += count
            await _produce(client, tracker, batch, rate)
            done = [i.intent_id for i in batch]
            await _settled(tracker, done, timeout_s=60 + count / 20)
            figures += _latency_figures(tracker, done, rate)
        pids = {name: system.processes[name].pid for name in ON_THE_WAY}
        split = CpuSplit({**pids, **(servers or {})})
        split.start()
        begun = time.perf_counter()
        await _produce(client, tracker, everything[start:], None)
        done = [i.intent_id for i in everything[start:]]
        await _settled(tracker, done, timeout_s=60 + burst / 50)
        split.stop()
        wall_s = time.perf_counter() - begun
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    accepted = [tracker.accepted[i] for i in done if i in tracker.accepted]
    if len(accepted) < len(done):
        raise RuntimeError(f"{len(done) - len(accepted)} of {len(done)} never accepted")
    rate = len(accepted) / (max(accepted) - begun)
    figures.append(
        Figure("end to end", f"saturation, {burst} at once -> accepted", rate, "/s", "rate")
    )
    return figures + _cpu_figures(split, len(done), wall_s)


def _cpu_figures(split: CpuSplit, intents: int, wall_s: float) -> list[Figure]:
    """CPU ms per intent of the burst, by process and together, and the cores they kept busy
    from the burst's first intent to its last `delivered`."""
    figures = [
        Figure("end to end", f"burst CPU per intent, {name}", spent / intents * 1000, "ms", "none")
        for name, spent in split.spent.items()
    ]
    together = sum(split.spent.values())
    return [
        *figures,
        Figure(
            "end to end", "burst CPU per intent, all of them", together / intents * 1000, "ms",
            "none",
        ),
        Figure("end to end", "burst, cores kept busy", together / wall_s, "cores", "none"),
    ]  # fmt: skip


def _latency_figures(tracker: Tracker, ids: Sequence[str], rate: float) -> list[Figure]:
    lost = [i for i in ids if i not in tracker.delivered]
    if lost:
        raise RuntimeError(
            f"at {rate:g}/s {len(lost)} of {len(ids)} not delivered: {tracker.other}"
        )
    figures = []
    for name, seen in (("accepted", tracker.accepted), ("delivered", tracker.delivered)):
        values = tracker.latencies(ids, seen)
        for q in ("p50", "p99"):
            value = quantile_ms(values, 0.5 if q == "p50" else 0.99)
            figures.append(Figure("end to end", f"at {rate:g}/s, -> {name} {q}", value, "ms", q))
    return figures
