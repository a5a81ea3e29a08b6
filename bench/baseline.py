"""The baseline every other figure is a ratio to: bare aiokafka consume -> decode -> produce
of intent-sized events on the same broker (topics of its own, deleted afterwards), flat out
and then at a fixed rate for the pass-through latency.

`python -m bench.baseline BOOTSTRAP COUNT RATE SECONDS` prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.measure import quantile_ms, rss_mib
from shared import codec
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.keys import conversation_key
from shared.messaging import (
    ensure_topics,
    make_consumer,
    make_producer,
    make_reader,
    partitions_of,
)
from shared.settings import KafkaSettings
from shared.topics import TopicSpec
from tests.conftest import delete_topics

IN = TopicSpec(name="in", model=None, key="conversation")
OUT = TopicSpec(name="out", model=None, key="conversation")
PNID = "106540352242922"


def intent(n: int) -> OutboundIntentSubmitted:
    """An order-shipped template to a customer of its own: what the end-to-end run sends."""
    return OutboundIntentSubmitted(
        intent_id=f"bench-{n}",
        phone_number_id=PNID,
        to=f"1650{n:07d}",
        content=TemplateContent(
            name="order_shipped",
            language="en_US",
            components=[{"type": "body", "parameters": [{"type": "text", "text": f"order {n}"}]}],
        ),
        priority="notification",
        metadata={"order": str(n)},
    )


async def _pass_through(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, out: str, done: list[float]
) -> None:
    """done: [records passed through, when the first arrived (perf_counter)]."""
    while True:
        batch = await consumer.getmany(timeout_ms=100, max_records=500)
        if batch and not done[1]:
            done[1] = time.perf_counter()
        pending = []
        for records in batch.values():
            for record in records:
                event = codec.decode(OutboundIntentSubmitted, record.value)
                pending.append(
                    await producer.send(
                        out, codec.encode(event), key=record.key, headers=list(record.headers)
                    )
                )
        if pending:
            await asyncio.gather(*pending)
            await consumer.commit()
            done[0] += len(pending)


async def _prefill(producer: AIOKafkaProducer, topic: str, count: int) -> None:
    futures = []
    for n in range(count):
        event = intent(n)
        key = conversation_key(event.phone_number_id, event.to).encode()
        futures.append(await producer.send(topic, codec.encode(event), key=key))
    await asyncio.gather(*futures)


async def _latency(
    producer: AIOKafkaProducer, settings: KafkaSettings, rate: float, seconds: float
) -> list[float]:
    reader = make_reader(settings)
    await reader.start()
    try:
        out = settings.topic(OUT.name)
        parts = [TopicPartition(out, p) for p in await partitions_of(settings, out)]
        reader.assign(parts)
        await reader.seek_to_end(*parts)
        total = int(rate * seconds)
        sent: dict[bytes, float] = {}
        latencies: list[float] = []

        async def read() -> None:
            while len(latencies) < total:
                for records in (await reader.getmany(timeout_ms=100)).values():
                    for record in records:
                        marker = dict(record.headers).get("bench")
                        if marker in sent:
                            latencies.append(time.perf_counter() - sent.pop(marker))

        reading = asyncio.create_task(read())
        started = time.perf_counter()
        for n in range(total):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            marker = str(n).encode()
            sent[marker] = time.perf_counter()
            await producer.send(
                settings.topic(IN.name), codec.encode(intent(n)), key=marker,
                headers=[("bench", marker)],
            )  # fmt: skip
        await asyncio.wait_for(reading, 60)
        return latencies
    finally:
        await reader.stop()


async def run(bootstrap: str, count: int, rate: float, seconds: float) -> dict[str, float]:
    settings = KafkaSettings(
        bootstrap=bootstrap, topic_prefix=f"bench{uuid.uuid4().hex[:10]}.", client_id="bench"
    )
    await ensure_topics(settings, [IN, OUT])
    producer = make_producer(settings, "baseline")
    relay = make_producer(settings, "relay")
    consumer = make_consumer(settings, f"{settings.topic_prefix}relay", [settings.topic(IN.name)])
    try:
        await producer.start()
        await relay.start()
        await _prefill(producer, settings.topic(IN.name), count)
        await consumer.start()
        done = [0.0, 0.0]
        relaying = asyncio.create_task(
            _pass_through(consumer, relay, settings.topic(OUT.name), done)
        )
        while done[0] < count:  # noqa: ASYNC110 (polled: the relay counts, it signals nothing)
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - done[1]  # from the first record: not the group join
        latencies = await _latency(producer, settings, rate, seconds)
        relaying.cancel()
        await asyncio.gather(relaying, return_exceptions=True)
    finally:
        await consumer.stop()
        await relay.stop()
        await producer.stop()
        await delete_topics(bootstrap, settings.topic_prefix)
    return {
        "rate": count / elapsed,
        "p50_ms": quantile_ms(latencies, 0.5),
        "p99_ms": quantile_ms(latencies, 0.99),
        "rss_mib": rss_mib(os.getpid()),
    }


def main() -> None:
    bootstrap, count, rate, seconds = sys.argv[1:5]
    print(json.dumps(asyncio.run(run(bootstrap, int(count), float(rate), float(seconds)))))


if __name__ == "__main__":
    main()
