"""The consume loop against a real broker: commits after handling, dead-letters what it cannot
decode or process, and re-reads a record after a retryable failure."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.errors import PermanentError, RetryableError
from shared.events.delivery import DeliveryUpdated
from shared.messaging import (
    ConsumeLoop,
    Publisher,
    Subscription,
    make_consumer,
    make_producer,
    partitions_of,
)
from shared.metrics import ConsumerMetrics, new_registry
from shared.settings import KafkaSettings
from shared.topics import DEAD_LETTERS, DELIVERY

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]


def _update(intent_id: str, state: str = "sent") -> DeliveryUpdated:
    return DeliveryUpdated(intent_id=intent_id, phone_number_id="1", to="2", state=state)  # type: ignore[arg-type]


async def _read_all(
    settings: KafkaSettings, topic: str, count: int
) -> list[ConsumerRecord[Any, Any]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in await partitions_of(settings, topic)])
        await consumer.seek_to_beginning()
        records: list[ConsumerRecord[Any, Any]] = []
        async with asyncio.timeout(30):
            while len(records) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def _committed(settings: KafkaSettings, group: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        total = 0
        for p in await partitions_of(settings, topic):
            total += await consumer.committed(TopicPartition(topic, p)) or 0
        return total
    finally:
        await consumer.stop()


async def test_loop_handles_dead_letters_retries_and_commits(kafka_settings: KafkaSettings) -> None:
    group = f"test-{uuid.uuid4().hex[:8]}"
    topic = kafka_settings.topic(DELIVERY.name)
    producer = make_producer(kafka_settings, "test")
    await producer.start()
    publisher = Publisher(producer, kafka_settings)
    key = "1:2"  # one partition, so the order below is the order handled
    await publisher.publish(DELIVERY, _update("good-1"), key)
    await producer.send_and_wait(topic, b"{not json", key=key.encode())
    await publisher.publish(DELIVERY, _update("flaky"), key)
    await publisher.publish(DELIVERY, _update("poison"), key)
    await publisher.publish(DELIVERY, _update("good-2"), key)

    handled: list[str] = []
    attempts: dict[str, int] = {}
    done = asyncio.Event()

    async def handler(event: DeliveryUpdated, _: Any) -> None:
        attempts[event.intent_id] = attempts.get(event.intent_id, 0) + 1
        if event.intent_id == "flaky" and attempts["flaky"] < 3:
            raise RetryableError("database briefly unavailable")
        if event.intent_id == "poison":
            raise PermanentError("this update can never be applied")
        handled.append(event.intent_id)
        if event.intent_id == "good-2":
            done.set()

    consumer = make_consumer(kafka_settings, group, [topic])
    await consumer.start()
    stop = asyncio.Event()
    loop = ConsumeLoop(
        consumer,
        group,
        {topic: Subscription(DELIVERY, DeliveryUpdated, handler)},
        publisher,
        ConsumerMetrics.create(new_registry(), "test"),
        max_backoff_s=0.2,
    )
    running = asyncio.create_task(loop.run_until(stop))
    try:
        async with asyncio.timeout(45):
            await done.wait()
    finally:
        stop.set()
        await running
        await consumer.stop()
        await producer.stop()

    assert handled == ["good-1", "flaky", "good-2"]
    assert attempts["flaky"] == 3
    assert await _committed(kafka_settings, group, topic) == 5

    dead = await _read_all(kafka_settings, kafka_settings.topic(DEAD_LETTERS.name), 2)
    reasons = sorted(dict(r.headers)["wagate-reason"].decode() for r in dead)
    assert reasons[0].startswith("DecodeError: not a valid DeliveryUpdated")
    assert reasons[1] == "PermanentError: this update can never be applied"
    assert b"{not json" in [r.value for r in dead]
    for record in dead:
        headers = dict(record.headers)
        assert headers["wagate-source-topic"] == topic.encode()
        assert headers["wagate-consumer-group"] == group.encode()
