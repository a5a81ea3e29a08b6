"""Dispatch throughput: approved intents through the PostgreSQL ledger, the per-number
senders and a local fake Cloud API (aiohttp on 127.0.0.1, in a process of its own); prints
sends per second, the CPU time of this process per send, send latency, throttling answers and
the peak RSS of dispatch's process.

The decisions are fed to dispatch's batch handler as its consume loop hands them over: a
partition's fetched records together, `FEED` of them (a fetch of `max_batch` records spread
over the conversation partitions); `--feed 1` hands them over one at a time.

`python -m bench.dispatch_bench [--intents N] [--numbers K] [--feed F]`; DATABASE_URL picks
the PostgreSQL server (a scratch database is created and dropped).

`python -m bench.dispatch_bench --statuses N [--together]`: Meta's statuses applied instead
(`statuses_applied`): N intents accepted in the ledger, their sent, delivered and read statuses
(sent and delivered priced) on the statuses topic, and dispatch's consume loop in this process
applying them over real Kafka and PostgreSQL; prints statuses per second, this process's CPU per
status, and the PostgreSQL statements and Kafka produce waits per status. KAFKA_BOOTSTRAP picks
the broker (topics of the run's own, deleted afterwards).
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
import asyncpg
from aiokafka import ConsumerRecord
from pydantic import SecretStr

from bench.fake_cloudapi import serving
from bench.system import scratch_database
from services.dispatch.app import MIGRATIONS, build
from services.dispatch.charges_store import PostgresCharges
from services.dispatch.cloudapi import CloudApi, SendOutcome
from services.dispatch.ledger import LedgerState, NewIntent
from services.dispatch.settings import DispatchSettings
from services.dispatch.store import PostgresLedger
from shared import codec, db, sealing
from shared.consuming import ConsumeLoop, Fed
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import Event, utcnow
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.events.keys import conversation_key
from shared.events.webhooks import MessageStatusReported
from shared.messaging import Publisher, ensure_topics, make_consumer, make_producer
from shared.metrics import ConsumerMetrics, new_registry
from shared.settings import KafkaSettings, PostgresSettings
from shared.topics import ALL_TOPICS, CONVERSATION_PARTITIONS, DELIVERY, STATUSES, TopicSpec
from tests.conftest import delete_topics, free_port

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


@dataclass
class StatusResult:
    """Meta's statuses applied by dispatch's consume loop, from the first applied to the last."""

    name: str
    statuses: int
    seconds: float
    cpu_s: float  # this process's CPU time over the timed part (the loop, not the producing)
    statements: int  # PostgreSQL round trips dispatch made in it
    produce_waits: int  # waits for Kafka's acknowledgement of what dispatch produced

    @property
    def rate(self) -> float:
        return self.statuses / self.seconds

    @property
    def cpu_us_per_status(self) -> float:
        return self.cpu_s / self.statuses * 10**6

    @property
    def statements_per_status(self) -> float:
        return self.statements / self.statuses

    @property
    def produce_waits_per_status(self) -> float:
        return self.produce_waits / self.statuses

    def line(self) -> str:
        return (
            f"{self.name:<34} {self.statuses:>6} statuses {self.seconds:7.2f} s "
            f"{self.rate:9.1f} statuses/s  CPU {self.cpu_us_per_status:6.0f} us/status  "
            f"PostgreSQL {self.statements_per_status:5.2f}/status  "
            f"Kafka waits {self.produce_waits_per_status:5.2f}/status"
        )


class CountingPool:
    """The pool, counting the statements made through it (each one round trip)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.count = 0

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.count += 1
        rows: list[asyncpg.Record] = await self.pool.fetch(sql, *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        self.count += 1
        row: asyncpg.Record | None = await self.pool.fetchrow(sql, *args)
        return row


class CountingPublisher:
    """The Kafka publisher, counting the waits for acknowledgements (one per call) and the
    delivery updates acknowledged."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self.waits = 0
        self.updates = 0

    async def publish(
        self, spec: TopicSpec, event: Event, key: str | None, headers: Sequence[Any] = ()
    ) -> None:
        self.waits += 1
        await self.publisher.publish(spec, event, key, headers)
        self.updates += spec is DELIVERY

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None:
        self.waits += 1
        await self.publisher.publish_many(items)
        self.updates += sum(spec is DELIVERY for spec, _, _ in items)


STATUS_CUSTOMERS = 1000  # recipients the intents go to (so the statuses spread on partitions)
PRICING = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}


def _status(n: int, state: str) -> MessageStatusReported:
    return MessageStatusReported(
        phone_number_id="pn-0", message_id=f"wamid.s-{n}", status=state, timestamp=utcnow(),
        recipient_id=f"1650{n % STATUS_CUSTOMERS:07d}", biz_opaque_callback_data=f"s-{n}",
        pricing=PRICING if state != "read" else None,
    )  # fmt: skip


async def _accepted_rows(pool: asyncpg.Pool, intents: int) -> None:
    """The intents recorded, sent and accepted with their wamids, the update reported."""
    decision = _decision(0, 1)
    ledger = PostgresLedger(pool)
    for at in range(0, intents, 500):
        await ledger.claim_many([
            NewIntent(
                f"s-{n}", "pn-0", f"1650{n % STATUS_CUSTOMERS:07d}", {}, LedgerState.QUEUED,
                codec.encode(decision).decode(),
            )
            for n in range(at, min(at + 500, intents))
        ])  # fmt: skip
    await pool.execute(
        "UPDATE dispatch_intents SET state = 'accepted', reported = 'accepted', attempts = 1,"
        " wamid = 'wamid.' || intent_id"
    )


async def _produce_statuses(kafka: KafkaSettings, intents: int, together: bool) -> int:
    """Every intent's sent, delivered and read statuses on the statuses topic, keyed as ingest
    keys them: one message's together, or (as Meta sends them, apart) each kind in a wave."""
    states = ("sent", "delivered", "read")
    order = (
        [(n, state) for n in range(intents) for state in states]
        if together
        else [(n, state) for state in states for n in range(intents)]
    )
    producer = make_producer(kafka, "bench-meta")
    await producer.start()
    try:
        publisher = Publisher(producer, kafka)
        for at in range(0, len(order), 1000):
            events = [_status(n, state) for n, state in order[at : at + 1000]]
            await publisher.publish_many([
                (STATUSES, e, conversation_key(e.phone_number_id, e.recipient_id or ""))
                for e in events
            ])  # fmt: skip
    finally:
        await producer.stop()
    return len(order)


async def statuses_applied(
    url: str, bootstrap: str, intents: int, together: bool = False
) -> StatusResult:
    """Statuses per second that dispatch's consume loop applies (its statuses subscription as
    `app.run` wires it, the batch handler per partition, side by side), this process's CPU per
    status, and PostgreSQL statements and Kafka waits per status, from the first update
    acknowledged to the last; every intent is checked read, reported and charged afterwards."""
    kafka = KafkaSettings(
        bootstrap=bootstrap, topic_prefix=f"bench{uuid.uuid4().hex[:10]}.", client_id="bench"
    )
    await ensure_topics(kafka, ALL_TOPICS)
    try:
        async with scratch_database(url) as database:
            pool = await db.create_pool(PostgresSettings(url=database))  # type: ignore[arg-type]
            try:
                await db.migrate(pool, "dispatch", MIGRATIONS)
                await _accepted_rows(pool, intents)
                count = await _produce_statuses(kafka, intents, together)
                result = await _apply_statuses(kafka, pool, count, together)
                await _check_applied(pool, intents)
            finally:
                await pool.close()
    finally:
        await delete_topics(bootstrap, kafka.topic_prefix)
    return result


async def _apply_statuses(
    kafka: KafkaSettings, pool: asyncpg.Pool, count: int, together: bool
) -> StatusResult:
    settings = DispatchSettings(kafka=kafka, sealing_keys=[SecretStr(sealing.new_key())])
    producer = make_producer(kafka, "dispatch")
    await producer.start()
    counted = CountingPool(pool)
    shared_pool: asyncpg.Pool = counted  # the ledger's and the charges' statements counted
    publisher = CountingPublisher(Publisher(producer, kafka))
    registry = new_registry()
    consumer = make_consumer(kafka, f"{kafka.topic_prefix}dispatch", [])
    dispatch = build(
        settings, ledger=PostgresLedger(shared_pool), api=NoApi(), publisher=publisher,
        clock=utcnow, consumer=consumer, registry=registry,
        charges=PostgresCharges(shared_pool),
    )  # fmt: skip
    consumer.subscribe(list(dispatch.subscriptions))
    await consumer.start()
    loop = ConsumeLoop(
        consumer, settings.group, dispatch.subscriptions, publisher.publisher,
        ConsumerMetrics.create(registry, "dispatch"), side_by_side=True,
    )  # fmt: skip
    halt = asyncio.Event()
    consuming = asyncio.create_task(loop.run_until(halt))

    try:
        deadline = time.monotonic() + 300
        while publisher.updates < 1:
            assert time.monotonic() < deadline and not consuming.done(), "nothing applied"
            await asyncio.sleep(0.002)
        started, cpu = time.perf_counter(), time.process_time()
        statements, waits = counted.count, publisher.waits
        while publisher.updates < count:
            assert time.monotonic() < deadline and not consuming.done(), publisher.updates
            await asyncio.sleep(0.01)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        statements, waits = counted.count - statements, publisher.waits - waits
    finally:
        halt.set()
        await consuming
        await consumer.stop()
        await producer.stop()
    name = "statuses, one message's together" if together else "statuses, each kind in a wave"
    return StatusResult(name, count, elapsed, cpu, statements, waits)


class NoApi:
    """No send is made while statuses are applied."""

    async def send(
        self, phone_number_id: str, payload: dict[str, Any], endpoint: str = "messages"
    ) -> SendOutcome:
        raise AssertionError("no send was asked for")


async def _check_applied(pool: asyncpg.Pool, intents: int) -> None:
    rows = await pool.fetch(
        "SELECT state, reported, count(*) AS n FROM dispatch_intents GROUP BY state, reported"
    )
    assert [(r["state"], r["reported"], r["n"]) for r in rows] == [("read", "read", intents)], rows
    charged = await pool.fetchval("SELECT count(*) FROM dispatch_charges WHERE charged")
    assert charged == intents, charged


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intents", type=int, default=3000)
    parser.add_argument("--numbers", type=int, default=4)
    parser.add_argument(
        "--in-process-fake", action="store_true", help="serve the fake Cloud API in-process"
    )
    parser.add_argument("--feed", type=int, default=FEED, help="decisions handed over at once")
    parser.add_argument("--statuses", type=int, default=0, help="intents whose statuses apply")
    parser.add_argument(
        "--together", action="store_true", help="each message's statuses one after another"
    )
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if args.statuses:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP", "localhost:9092")
        print("dispatch: Meta's statuses (Kafka) -> ledger (PostgreSQL) -> delivery updates")
        print(asyncio.run(statuses_applied(url, bootstrap, args.statuses, args.together)).line())
        return
    print("dispatch: approved intents -> ledger (PostgreSQL) -> senders -> fake Cloud API")
    for result in asyncio.run(
        run_all(url, args.intents, args.numbers, args.in_process_fake, args.feed)
    ):
        print(result.line())
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS {peak_kib / 1024:.1f} MiB (this process)")


if __name__ == "__main__":
    main()
