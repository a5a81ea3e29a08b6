"""The Python client for business systems: produce intents, follow their delivery updates.

The `wagate-client` distribution (`clients/python/`) carries this module as
`wagate_client.client`, generated from it, so it imports only the contract and aiokafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Collection, Mapping
from contextlib import AsyncExitStack, aclosing
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from shared import codec
from shared.errors import DecodeError
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import deterministic_id
from shared.events.intents import OutboundIntentSubmitted
from shared.events.keys import conversation_key
from shared.messaging import make_producer, make_reader, partitions_of
from shared.settings import KafkaSettings
from shared.topics import DELIVERY, INTENTS

ENV_PREFIX = "WAGATE_KAFKA__"
"""Where `kafka_settings_from` looks: `WAGATE_KAFKA__BOOTSTRAP`, `__SECURITY_PROTOCOL`,
`__SASL_MECHANISM`, `__SASL_USERNAME`, `__SASL_PASSWORD`, `__SSL_CAFILE`, `__TOPIC_PREFIX`...:
the names the services read under their own prefixes (`DISPATCH_KAFKA__...`)."""


def kafka_settings_from(
    environ: Mapping[str, str], prefix: str = ENV_PREFIX, **given: Any
) -> KafkaSettings:
    """Kafka settings from the `prefix`-named variables of `environ`, then `given` on top.

    Raises ValueError naming the variable for an unknown name, a bad value, or SASL
    without its mechanism, username and password.
    """
    values: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(prefix):
            continue
        field = name[len(prefix) :].lower()
        if field not in KafkaSettings.model_fields:
            known = ", ".join(f"{prefix}{f.upper()}" for f in KafkaSettings.model_fields)
            raise ValueError(f"{name} is not a Kafka setting (known: {known})")
        values[field] = value
    values.update(given)
    try:
        settings = KafkaSettings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = f"{prefix}{str(error['loc'][0]).upper()}" if error["loc"] else prefix
        raise ValueError(f"{where}: {error['msg']}") from exc
    if settings.security_protocol.startswith("SASL"):
        missing = [
            f"{prefix}{f.upper()}"
            for f in ("sasl_mechanism", "sasl_username", "sasl_password")
            if not getattr(settings, f)
        ]
        if missing:
            raise ValueError(f"{settings.security_protocol} needs {', '.join(missing)}")
    return settings


class WagateClient:
    """`async with WagateClient(settings) as client: await client.send(intent)`."""

    def __init__(self, settings: KafkaSettings, producer_name: str = "client") -> None:
        self._settings = settings
        self._producer_name = producer_name
        self._stack = AsyncExitStack()
        self._producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> Self:
        producer = make_producer(self._settings, self._producer_name)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._stack.push_async_callback(producer.stop)
        self._producer = producer
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
        assert self._producer is not None, "use the client inside `async with`"
        event = intent.model_copy(
            update={
                "event_id": deterministic_id("intent", intent.intent_id),
                "producer": intent.producer
                if intent.producer != "unknown"
                else self._producer_name,
            }
        )
        await self._producer.send_and_wait(
            self._settings.topic(INTENTS.name),
            codec.encode(event),
            key=codec.encode_key(conversation_key(intent.phone_number_id, intent.customer)),
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
        async with self.follow([intent.intent_id]) as updates:
            await self.send(intent)
            async with aclosing(updates.until_terminal(timeout_s)) as stream:
                return [update async for update in stream]


class DeliveryFollower:
    """The delivery updates `WagateClient.follow` selects, as an async iterator.

    A record on the delivery topic that is not a delivery update is skipped and counted in
    `skipped`: one foreign record must not stop every business system that follows updates.
    """

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
        self.skipped = 0

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

    async def _iterate(self) -> AsyncGenerator[DeliveryUpdated, None]:
        async for record in self._consumer:
            try:
                update = codec.decode(DeliveryUpdated, record.value)
            except DecodeError:
                self.skipped += 1
                continue
            if self._wanted and update.intent_id not in self._wanted:
                continue
            if all(update.metadata.get(k) == v for k, v in self._metadata.items()):
                yield update

    async def until_terminal(self, timeout_s: float) -> AsyncGenerator[DeliveryUpdated, None]:
        """The updates as they arrive, until a terminal one (yielded too) or `timeout_s`
        seconds from now, whichever comes first: for following one intent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        async with aclosing(self._iterate()) as updates:
            while (left := deadline - loop.time()) > 0:
                try:
                    update = await asyncio.wait_for(anext(updates), left)
                except (TimeoutError, StopAsyncIteration):
                    return
                yield update
                if update.terminal:
                    return
