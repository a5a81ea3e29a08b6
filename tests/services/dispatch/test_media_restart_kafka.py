"""The inbound media worker's consume loop over real Kafka, failing mid-batch: the supervisor
starts it again and every customer's message it had fetched is read again, none skipped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial

import pytest
from aiokafka import ConsumerRecord

from services.dispatch.media_wiring import restartable
from shared.events.webhooks import InboundMessageReceived
from shared.http import Readiness
from shared.messaging import (
    ConsumeLoop,
    Publisher,
    Subscription,
    make_consumer,
    make_producer,
)
from shared.metrics import ConsumerMetrics, new_registry
from shared.settings import KafkaSettings
from shared.supervise import Backoff, Supervisor
from shared.topics import INBOUND_MESSAGES

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(60)]


def _photo(n: int) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id="106540352242922", wa_id="16505551234", message_id=f"wamid.{n}",
        timestamp=datetime(2026, 3, 1, 12, tzinfo=UTC), message_type="image",
        content={"id": str(700 + n), "mime_type": "image/png"},
    )  # fmt: skip


async def test_a_loop_that_fails_mid_batch_reads_every_unfinished_message_again(
    kafka_settings: KafkaSettings,
) -> None:
    producer = make_producer(kafka_settings, "test")
    await producer.start()
    publisher = Publisher(producer, kafka_settings)
    for n in range(1, 5):  # one key: one partition, in order, fetched as one batch
        await publisher.publish(INBOUND_MESSAGES, _photo(n), key="106540352242922:16505551234")
    handled: list[str] = []
    failed: list[str] = []

    async def fetch(event: InboundMessageReceived, _: ConsumerRecord[bytes, bytes]) -> None:
        if event.message_id == "wamid.2" and not failed:
            failed.append(event.message_id)
            raise RuntimeError("the worker died on this one")  # not a WagateError: a crash
        handled.append(event.message_id)

    topic = kafka_settings.topic(INBOUND_MESSAGES.name)
    consumer = make_consumer(kafka_settings, "test-media", [topic])
    await consumer.start()
    registry = new_registry()
    supervisor = Supervisor("dispatch", registry, Readiness(), Backoff(base_s=0.05))
    subscriptions = {topic: Subscription(INBOUND_MESSAGES, InboundMessageReceived, fetch)}
    metrics = ConsumerMetrics.create(registry, "dispatch_media")
    loop = partial(ConsumeLoop, consumer, "test-media", subscriptions, publisher, metrics)
    halt = asyncio.Event()
    task = supervisor.spawn("media_inbound", restartable(consumer, loop, halt))
    try:
        for _ in range(300):
            if "wamid.4" in handled:
                break
            await asyncio.sleep(0.05)
    finally:
        halt.set()
        await asyncio.wait_for(task, 10)
        await consumer.stop()
        await producer.stop()
    assert failed == ["wamid.2"]
    assert set(handled) == {"wamid.1", "wamid.2", "wamid.3", "wamid.4"}, handled
    assert handled[-3:] == ["wamid.2", "wamid.3", "wamid.4"]  # after the failure, in order
    assert supervisor.health("media_inbound").failures == 1 and not supervisor.gave_up.is_set()
