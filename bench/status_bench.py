"""Dispatch applying Meta's statuses: intents recorded `accepted` with their wamids in a
scratch database, each one's `sent`, `delivered` and `read` on a statuses topic of the run's
own, dispatch's consume loop wired as `app.run` wires it; statuses per second, this process's
CPU per status, and PostgreSQL statements and Kafka waits per status (`statuses_applied`;
`python -m bench.status_bench [--intents N] [--together]`; DATABASE_URL and KAFKA_BOOTSTRAP
pick the servers: a scratch database and topics of the run's own, dropped afterwards)."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import SecretStr

from bench.dispatch_bench import DEFAULT_URL, _decision
from bench.system import scratch_database
from services.dispatch.app import MIGRATIONS, build
from services.dispatch.charges_store import PostgresCharges
from services.dispatch.cloudapi import SendOutcome
from services.dispatch.ledger import LedgerState, NewIntent
from services.dispatch.settings import DispatchSettings
from services.dispatch.store import PostgresLedger
from shared import codec, db, sealing
from shared.consuming import ConsumeLoop
from shared.events.envelope import Event, utcnow
from shared.events.keys import conversation_key
from shared.events.webhooks import MessageStatusReported
from shared.messaging import Publisher, ensure_topics, make_consumer, make_producer
from shared.metrics import ConsumerMetrics, new_registry
from shared.settings import KafkaSettings, PostgresSettings
from shared.topics import ALL_TOPICS, DELIVERY, STATUSES, TopicSpec
from tests.conftest import delete_topics


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
    parser.add_argument("--intents", type=int, default=3000, help="intents whose statuses apply")
    parser.add_argument(
        "--together", action="store_true", help="each message's statuses one after another"
    )
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP", "localhost:9092")
    print("dispatch: Meta's statuses (Kafka) -> ledger (PostgreSQL) -> delivery updates")
    print(asyncio.run(statuses_applied(url, bootstrap, args.intents, args.together)).line())


if __name__ == "__main__":
    main()
