"""The Python client for business systems: produce intents, follow their delivery updates."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

from aiokafka import TopicPartition

from shared import codec
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import deterministic_id
from shared.events.intents import OutboundIntentSubmitted
from shared.events.keys import conversation_key
from shared.messaging import Publisher, make_producer, make_reader, partitions_of
from shared.settings import KafkaSettings
from shared.topics import DELIVERY, INTENTS


class WagateClient:
    """`async with WagateClient(settings) as client: await client.send(intent)`."""

    def __init__(self, settings: KafkaSettings, producer_name: str = "client") -> None:
        self._settings = settings
        self._producer_name = producer_name
        self._stack = AsyncExitStack()
        self._publisher: Publisher | None = None

    async def __aenter__(self) -> Self:
        producer = make_producer(self._settings, self._producer_name)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._stack.push_async_callback(producer.stop)
        self._publisher = Publisher(producer, self._settings)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def send(self, intent: OutboundIntentSubmitted) -> str:
        """Produce the intent (keyed by its conversation) and return its id once acknowledged.

        The event id derives from `intent_id`, so producing the same intent twice is harmless.
        """
        assert self._publisher is not None, "use the client inside `async with`"
        event = intent.model_copy(
            update={
                "event_id": deterministic_id("intent", intent.intent_id),
                "producer": intent.producer
                if intent.producer != "unknown"
                else self._producer_name,
            }
        )
        await self._publisher.publish(
            INTENTS, event, key=conversation_key(intent.phone_number_id, intent.to)
        )
        return intent.intent_id

    def follow(
        self,
        intent_ids: Collection[str] = (),
        *,
        from_beginning: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> DeliveryFollower:
        """Delivery updates from now on (or from the start), optionally only for `intent_ids`
        and only those whose metadata holds every pair of `metadata`.

        `async with client.follow([...]) as updates:` is positioned when the block starts, so
        updates of intents sent inside the block are never missed.
        """
        return DeliveryFollower(
            self._settings, set(intent_ids), from_beginning, dict(metadata or {})
        )

    async def send_and_wait(
        self, intent: OutboundIntentSubmitted, timeout_s: float
    ) -> list[DeliveryUpdated]:
        """Send and collect the intent's updates until a terminal one (or the timeout)."""
        seen: list[DeliveryUpdated] = []
        async with self.follow([intent.intent_id]) as updates:
            await self.send(intent)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    async for update in updates:
                        seen.append(update)
                        if update.terminal:
                            break
        return seen


class DeliveryFollower:
    def __init__(
        self,
        settings: KafkaSettings,
        intent_ids: set[str],
        from_beginning: bool,
        metadata: dict[str, str],
    ) -> None:
        self._settings = settings
        self._wanted = intent_ids
        self._metadata = metadata
        self._from_beginning = from_beginning
        self._consumer = make_reader(settings)

    async def __aenter__(self) -> Self:
        consumer = self._consumer
        await consumer.start()
        try:
            await self._position()
        except BaseException:
            await consumer.stop()
            raise
        return self

    async def _position(self) -> None:
        consumer = self._consumer
        topic = self._settings.topic(DELIVERY.name)
        tps = [TopicPartition(topic, p) for p in await partitions_of(self._settings, topic)]
        consumer.assign(tps)
        if self._from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        for tp in tps:  # resolve positions now, before the caller produces anything
            await consumer.position(tp)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._consumer.stop()

    def __aiter__(self) -> AsyncIterator[DeliveryUpdated]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[DeliveryUpdated]:
        async for record in self._consumer:
            update = codec.decode(DeliveryUpdated, record.value)
            if self._wanted and update.intent_id not in self._wanted:
                continue
            if all(update.metadata.get(k) == v for k, v in self._metadata.items()):
                yield update
