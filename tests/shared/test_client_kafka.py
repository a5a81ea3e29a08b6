"""The Python client against a real broker: idempotent send, filtered delivery updates."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.client import WagateClient
from shared.events.delivery import DeliveryUpdated
from shared.messaging import Publisher, make_producer
from shared.settings import KafkaSettings
from shared.topics import DELIVERY

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


def _update(intent_id: str, state: str, order: str) -> DeliveryUpdated:
    return DeliveryUpdated(
        intent_id=intent_id,
        phone_number_id="1",
        to="2",
        state=state,  # type: ignore[arg-type]
        metadata={"order": order},
    )


async def test_follow_filters_by_intent_and_metadata(kafka_settings: KafkaSettings) -> None:
    producer = make_producer(kafka_settings, "test")
    await producer.start()
    publisher = Publisher(producer, kafka_settings)
    seen: list[tuple[str, str]] = []
    try:
        async with (
            WagateClient(kafka_settings) as client,
            client.follow(metadata={"order": "42"}) as updates,
        ):
            await publisher.publish(DELIVERY, _update("a", "accepted", "41"), "1:2")
            await publisher.publish(DELIVERY, _update("b", "accepted", "42"), "1:2")
            await publisher.publish(DELIVERY, _update("b", "delivered", "42"), "1:2")
            async with asyncio.timeout(30):
                async for update in updates:
                    seen.append((update.intent_id, update.state))
                    if update.terminal:
                        break
    finally:
        await producer.stop()
    assert seen == [("b", "accepted"), ("b", "delivered")]


async def test_a_foreign_record_is_skipped_and_following_goes_on(
    kafka_settings: KafkaSettings,
) -> None:
    producer = make_producer(kafka_settings, "test")
    await producer.start()
    publisher = Publisher(producer, kafka_settings)
    try:
        async with WagateClient(kafka_settings) as client, client.follow(["c"]) as updates:
            topic = kafka_settings.topic(DELIVERY.name)
            await producer.send_and_wait(topic, b"not an update", key=b"1:2")
            await publisher.publish(DELIVERY, _update("c", "accepted", "1"), "1:2")
            await publisher.publish(DELIVERY, _update("c", "delivered", "1"), "1:2")
            await publisher.publish(DELIVERY, _update("c", "read", "1"), "1:2")
            states = [u.state async for u in updates.until_terminal(30)]
    finally:
        await producer.stop()
    assert states == ["accepted", "delivered"]  # up to the first terminal update
    assert updates.skipped == 1


async def test_following_one_intent_ends_at_the_timeout(kafka_settings: KafkaSettings) -> None:
    async with WagateClient(kafka_settings) as client, client.follow(["none"]) as updates:
        started = time.monotonic()
        seen = [u async for u in updates.until_terminal(1.5)]
        waited = time.monotonic() - started
    assert seen == [] and 1.4 <= waited < 10
