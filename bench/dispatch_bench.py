"""Dispatch throughput: approved intents through the PostgreSQL ledger, the per-number
senders and a local fake Cloud API (aiohttp on 127.0.0.1); prints sends per second,
latency and peak RSS.

`python -m bench.dispatch_bench [--intents N] [--numbers K]`; DATABASE_URL picks the
PostgreSQL server (a scratch database is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from aiokafka import ConsumerRecord
from prometheus_client import Gauge

from bench.fake_cloudapi import FakeCloudApi
from services.dispatch.app import MIGRATIONS
from services.dispatch.backpressure import Backpressure
from services.dispatch.cloudapi import CloudApi
from services.dispatch.handlers import Dispatcher
from services.dispatch.meters import DispatchMetrics
from services.dispatch.reports import Reporter
from services.dispatch.sender import Senders
from services.dispatch.settings import DispatchSettings
from services.dispatch.store import Ledger
from shared import db
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import Event, utcnow
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.metrics import new_registry
from shared.settings import PostgresSettings
from shared.topics import TopicSpec

DEFAULT_URL = "postgresql://wagate:wagate@127.0.0.1:55432/wagate"


class NullPublisher:
    """Counts what would go to Kafka (the ledger and the Cloud API are what is measured)."""

    def __init__(self) -> None:
        self.count = 0

    async def publish(
        self, spec: TopicSpec, event: Event, key: str | None, headers: Sequence[Any] = ()
    ) -> None:
        self.count += 1


class NoConsumer:
    def pause(self, *partitions: object) -> None: ...
    def resume(self, *partitions: object) -> None: ...
    def assignment(self) -> set[object]:
        return set()


@asynccontextmanager
async def scratch_database(url: str) -> AsyncIterator[str]:
    name = f"wagate_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.rsplit("/", 1)[0] + f"/{name}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@dataclass
class Result:
    name: str
    intents: int
    seconds: float
    throttled: int
    p50_ms: float
    p99_ms: float

    def line(self) -> str:
        rate = self.intents / self.seconds
        return (
            f"{self.name:<34} {self.intents:>6} intents {self.seconds:7.2f} s "
            f"{rate:9.1f} sends/s  send p50 {self.p50_ms:6.1f} ms p99 {self.p99_ms:6.1f} ms  "
            f"throttled {self.throttled}"
        )


def _decision(i: int, numbers: int) -> PolicyDecisionMade:
    intent = OutboundIntentSubmitted(
        intent_id=f"b-{uuid.uuid4().hex}",
        phone_number_id=f"pn-{i % numbers}",
        to=f"1650{i:07d}",
        content=TextContent(body="Your order has shipped."),
        priority=("reply", "notification", "marketing")[i % 3],
    )
    return PolicyDecisionMade(intent=intent, outcome="approved")


class TimedApi:
    """The real client, timing each send as the sender sees it."""

    def __init__(self, api: CloudApi) -> None:
        self.api = api
        self.seconds: list[float] = []

    async def send(self, phone_number_id: str, payload: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return await self.api.send(phone_number_id, payload)
        finally:
            self.seconds.append(time.perf_counter() - started)

    def quantiles_ms(self) -> tuple[float, float]:
        values = sorted(self.seconds) or [0.0]
        return values[len(values) // 2] * 1000, values[int(len(values) * 0.99)] * 1000


async def run_case(
    name: str, url: str, intents: int, numbers: int, mps: float, limit: float | None
) -> Result:
    api = await FakeCloudApi(mps_limit=limit).start()
    settings = DispatchSettings(
        cloud_api={"base_url": api.base_url},  # type: ignore[arg-type]
        rates={"default_mps": mps, "pair_burst": 5, "max_in_flight": 64},  # type: ignore[arg-type]
    )
    async with scratch_database(url) as database:
        pool = await db.create_pool(PostgresSettings(url=database, max_size=20))  # type: ignore[arg-type]
        await db.migrate(pool, "dispatch", MIGRATIONS)
        metrics = DispatchMetrics(new_registry())
        gauge: Gauge = metrics.paused
        backpressure = Backpressure(NoConsumer(), 10**9, 10**9, gauge)  # type: ignore[arg-type]
        ledger = Ledger(pool)
        publisher = NullPublisher()
        senders = Senders(settings, backpressure, metrics, utcnow)
        decisions = [_decision(i, numbers) for i in range(intents)]
        record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
            "decisions", 0, 0, 0, 0, None, b"", None, 0, 0, ()
        )
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=settings.cloud_api.max_connections)
        ) as session:
            reporter = Reporter(ledger, publisher, metrics, "bench")
            timed = TimedApi(CloudApi(session, settings.cloud_api))
            dispatcher = Dispatcher(
                ledger, timed, reporter, senders,  # type: ignore[arg-type]
                backpressure, metrics, utcnow, settings.retry.policy(),
            )  # fmt: skip
            senders.bind(dispatcher.attempt, dispatcher.reload)
            started = time.perf_counter()
            for decision in decisions:
                await dispatcher.on_decision(decision, record)
            await api.until_accepted(intents)
            await senders.close()  # the last sends record their answers
            elapsed = time.perf_counter() - started
            assert publisher.count == intents
        await pool.close()
    await api.stop()
    p50, p99 = timed.quantiles_ms()
    return Result(name, intents, elapsed, api.throttled, p50, p99)


async def run_all(url: str, intents: int, numbers: int) -> list[Result]:
    return [
        await run_case(
            f"{numbers} numbers at 1000 mps (tier 2)", url, intents, numbers, 1000, None
        ),
        await run_case("1 number at 80 mps (Meta's default)", url, 400, 1, 80, 80 + 2),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intents", type=int, default=3000)
    parser.add_argument("--numbers", type=int, default=4)
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    print("dispatch: approved intents -> ledger (PostgreSQL) -> senders -> fake Cloud API")
    for result in asyncio.run(run_all(url, args.intents, args.numbers)):
        print(result.line())
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS {peak_kib / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
