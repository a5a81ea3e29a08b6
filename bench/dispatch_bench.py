"""Dispatch throughput: approved intents through the PostgreSQL ledger, the per-number
senders and a local fake Cloud API (aiohttp on 127.0.0.1, in a process of its own); prints
sends per second, the CPU time of this process per send, send latency, throttling answers and
the peak RSS of dispatch's process.

The decisions are fed to dispatch's batch handler as its consume loop hands them over: a
partition's fetched records together, `FEED` of them (a fetch of `max_batch` records spread
over the conversation partitions); `--feed 1` hands them over one at a time.

`python -m bench.dispatch_bench [--intents N] [--numbers K] [--feed F]`; DATABASE_URL picks
the PostgreSQL server (a scratch database is created and dropped).

Meta's statuses applied by dispatch are measured in `bench/status_bench.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from aiokafka import ConsumerRecord
from pydantic import SecretStr

from bench.fake_cloudapi import serving
from bench.system import scratch_database
from services.dispatch.app import MIGRATIONS, build
from services.dispatch.cloudapi import CloudApi, SendOutcome
from services.dispatch.settings import DispatchSettings
from services.dispatch.store import PostgresLedger
from shared import db, sealing
from shared.consuming import Fed
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import Event, utcnow
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.metrics import new_registry
from shared.settings import KafkaSettings, PostgresSettings
from shared.topics import CONVERSATION_PARTITIONS, TopicSpec
from tests.conftest import free_port

DEFAULT_URL = "postgresql://wagate:wagate@127.0.0.1:55432/wagate"
FEED = KafkaSettings().max_batch // CONVERSATION_PARTITIONS
"""Decisions per partition in one fetch of a backlog: what the consume loop hands over."""
IN_FLIGHT = int(os.environ.get("BENCH_IN_FLIGHT", "64"))
"""Sends of the number on their way at once (`rates.max_in_flight`; BENCH_IN_FLIGHT)."""


class NullPublisher:
    """Counts what would go to Kafka (the ledger and the Cloud API are what is measured)."""

    def __init__(self) -> None:
        self.count = 0

    async def publish(
        self, spec: TopicSpec, event: Event, key: str | None, headers: Sequence[Any] = ()
    ) -> None:
        self.count += 1

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None:
        self.count += len(items)


class NoConsumer:
    def pause(self, *partitions: object) -> None: ...
    def resume(self, *partitions: object) -> None: ...
    def assignment(self) -> set[object]:
        return set()


@asynccontextmanager
async def local_fake(limit: float | None) -> AsyncIterator[str]:
    """The fake Cloud API inside this process (no second process competing for a core)."""
    async with serving(free_port(), limit) as url:
        yield url


@asynccontextmanager
async def remote_fake(limit: float | None) -> AsyncIterator[str]:
    """The fake Cloud API in a process of its own, as a remote API would be."""
    port = free_port()
    args = ["-m", "bench.fake_cloudapi", str(port), *([str(limit)] if limit else [])]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{url}/stats"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        await proc.wait()


async def stats(url: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/stats") as resp:
        body: dict[str, int] = await resp.json()
        return body


async def until_accepted(url: str, count: int, timeout_s: float = 120) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        figures = await stats(url)
        if figures["accepted"] >= count:
            return figures
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Cloud API stand-in accepted {figures} of {count} sends")
        await asyncio.sleep(0.02)


@dataclass
class Result:
    name: str
    intents: int
    seconds: float
    throttled: int
    p50_ms: float
    p99_ms: float
    cpu_s: float = 0.0  # this process's CPU time (time.process_time) over the timed part
    most_in_flight: int = 0  # the most sends on their way at once

    @property
    def cpu_ms_per_send(self) -> float:
        return self.cpu_s / self.intents * 1000

    @property
    def rate(self) -> float:
        return self.intents / self.seconds

    def line(self) -> str:
        rate = self.rate
        return (
            f"{self.name:<34} {self.intents:>6} intents {self.seconds:7.2f} s "
            f"{rate:9.1f} sends/s  CPU {self.cpu_ms_per_send:5.2f} ms/send  "
            f"send p50 {self.p50_ms:6.1f} ms p99 {self.p99_ms:6.1f} ms  "
            f"throttled {self.throttled}  at once {self.most_in_flight}"
        )


def _decision(i: int, numbers: int) -> PolicyDecisionMade:
    intent = OutboundIntentSubmitted(
        intent_id=f"b-{uuid.uuid4().hex}",
        phone_number_id=f"pn-{i % numbers}",
        to=f"1650{i:07d}",
        content=TextContent(body="Your order has shipped."),
        priority=("reply", "notification", "marketing")[i % 3],
    )
    # approved for an hour: past its approval, dispatch would hand the intent back to policy
    return PolicyDecisionMade(
        intent=intent, outcome="approved", valid_until=utcnow() + timedelta(hours=1)
    )


class TimedApi:
    """The real client, timing each send as the sender sees it."""

    def __init__(self, api: CloudApi) -> None:
        self.api = api
        self.seconds: list[float] = []
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests of the number on their way at once

    async def send(
        self, phone_number_id: str, payload: dict[str, Any], endpoint: str = "messages"
    ) -> SendOutcome:
        started = time.perf_counter()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self.api.send(phone_number_id, payload, endpoint)
        finally:
            self.in_flight -= 1
            self.seconds.append(time.perf_counter() - started)

    def quantiles_ms(self) -> tuple[float, float]:
        values = sorted(self.seconds) or [0.0]
        return values[len(values) // 2] * 1000, values[int(len(values) * 0.99)] * 1000


async def run_case(
    name: str,
    url: str,
    intents: int,
    numbers: int,
    mps: float,
    limit: float | None,
    in_process: bool = False,
    feed: int = FEED,
) -> Result:
    fake = local_fake if in_process else remote_fake
    async with fake(limit) as base_url:
        return await _run_case(name, url, base_url, intents, numbers, mps, feed)


async def _run_case(
    name: str, url: str, base_url: str, intents: int, numbers: int, mps: float, feed: int
) -> Result:
    settings = DispatchSettings(
        cloud_api={"base_url": base_url},  # type: ignore[arg-type]
        rates={"default_mps": mps, "pair_burst": 5, "max_in_flight": IN_FLIGHT},  # type: ignore[arg-type]
        backlog_high=10**9,
        backlog_low=10**9,
        sealing_keys=[SecretStr(sealing.new_key())],
    )
    async with scratch_database(url) as database:
        pool = await db.create_pool(PostgresSettings(url=database, max_size=20))  # type: ignore[arg-type]
        await db.migrate(pool, "dispatch", MIGRATIONS)
        publisher = NullPublisher()
        decisions = [_decision(i, numbers) for i in range(intents)]
        record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
            "decisions", 0, 0, 0, 0, None, b"", None, 0, 0, ()
        )
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=settings.cloud_api.max_connections)
        ) as session:
            timed = TimedApi(CloudApi(session, settings.cloud_api))
            dispatch = build(
                settings, ledger=PostgresLedger(pool), api=timed, publisher=publisher,
                clock=utcnow, consumer=NoConsumer(), registry=new_registry(),
            )  # fmt: skip
            started, cpu = time.perf_counter(), time.process_time()
            for at in range(0, intents, feed):
                fed = [Fed(decision, record) for decision in decisions[at : at + feed]]
                outcomes = await dispatch.decisions.on_decisions(fed)
                assert not any(outcomes), outcomes
            figures = await until_accepted(base_url, intents)
            await dispatch.senders.close()  # the last sends record their answers
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            assert publisher.count == intents and figures["duplicates"] == 0
        await pool.close()
    p50, p99 = timed.quantiles_ms()
    return Result(name, intents, elapsed, figures["throttled"], p50, p99, cpu, timed.most_in_flight)


async def one_number(url: str, intents: int, feed: int = FEED) -> Result:
    """Sends per second for one number with the limits lifted (the Cloud API stand-in in a
    process of its own answers every send)."""
    return await run_case("1 number, limits lifted", url, intents, 1, 10.0**6, None, feed=feed)


async def run_all(
    url: str, intents: int, numbers: int, in_process: bool, feed: int = FEED
) -> list[Result]:
    where = "fake in-process" if in_process else "fake in its own process"
    return [
        await one_number(url, intents, feed),
        await run_case(
            f"{numbers} numbers at 1000 mps, {where}",
            url,
            intents,
            numbers,
            1000,
            None,
            in_process,
            feed,
        ),
        await run_case(f"1 number at 80 mps, {where}", url, 400, 1, 80, 80 + 2, in_process, feed),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intents", type=int, default=3000)
    parser.add_argument("--numbers", type=int, default=4)
    parser.add_argument(
        "--in-process-fake", action="store_true", help="serve the fake Cloud API in-process"
    )
    parser.add_argument("--feed", type=int, default=FEED, help="decisions handed over at once")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    print("dispatch: approved intents -> ledger (PostgreSQL) -> senders -> fake Cloud API")
    for result in asyncio.run(
        run_all(url, args.intents, args.numbers, args.in_process_fake, args.feed)
    ):
        print(result.line())
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS {peak_kib / 1024:.1f} MiB (this process)")


if __name__ == "__main__":
    main()
