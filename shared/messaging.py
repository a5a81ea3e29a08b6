"""Kafka plumbing: the producer (acks=all, idempotent), topic creation, the publisher, and
(from `shared.consuming`, named here too) the consume loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from shared import codec, deadletters, logs
from shared.consuming import ConsumeLoop as ConsumeLoop
from shared.consuming import Handler as Handler
from shared.consuming import Subscription as Subscription
from shared.events.envelope import Event
from shared.settings import KafkaSettings
from shared.topics import DEAD_LETTERS, TopicSpec

log = logs.get(__name__)
_TOPIC_ALREADY_EXISTS = 36


def connection_options(settings: KafkaSettings) -> dict[str, Any]:
    """What every Kafka client needs to reach the cluster: servers, TLS, SASL."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap,
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=settings.ssl_cafile)
    if settings.security_protocol.startswith("SASL"):
        if not settings.sasl_mechanism or not settings.sasl_username or not settings.sasl_password:
            raise ValueError("SASL needs sasl_mechanism, sasl_username and sasl_password")
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    return options


def make_reader(settings: KafkaSettings) -> AIOKafkaConsumer:
    """A consumer outside any group, for reading topics by explicit assignment."""
    return AIOKafkaConsumer(**connection_options(settings), group_id=None, enable_auto_commit=False)


def make_producer(settings: KafkaSettings, client_id: str, **tuning: Any) -> AIOKafkaProducer:
    """acks=all and idempotent, always; `tuning` adds options such as compression."""
    return AIOKafkaProducer(
        **connection_options(settings),
        client_id=f"{settings.client_id}-{client_id}",
        acks="all",
        enable_idempotence=True,
        linger_ms=settings.linger_ms,
        request_timeout_ms=settings.request_timeout_ms,
        **tuning,
    )


def make_consumer(settings: KafkaSettings, group: str, topics: Iterable[str]) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        **connection_options(settings),
        client_id=f"{settings.client_id}-{group}",
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=settings.max_batch,
    )


async def ensure_topics(settings: KafkaSettings, specs: Sequence[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; returns the names it created."""
    admin = AIOKafkaAdminClient(**connection_options(settings), client_id="wagate-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if settings.topic(s.name) not in existing]
        if not missing:
            return []
        new = [
            NewTopic(settings.topic(s.name), s.partitions, 1, topic_configs=s.config)
            for s in missing
        ]
        try:
            response = await admin.create_topics(new)
        except TopicAlreadyExistsError:
            return []
        for name, error_code, *_ in getattr(response, "topic_errors", []):
            if error_code not in (0, _TOPIC_ALREADY_EXISTS):
                raise KafkaError(f"creating topic {name} failed with error code {error_code}")
        await _until_led(admin, {t.name: t.num_partitions for t in new})
        return [t.name for t in new]
    finally:
        await admin.close()


async def _until_led(
    admin: AIOKafkaAdminClient, wanted: dict[str, int], timeout_s: float = 30.0
) -> None:
    """Wait until every new topic shows all its partitions with a leader: a topic is usable
    only then, and a client that looks earlier sees it missing or leaderless."""
    async with asyncio.timeout(timeout_s):
        while True:
            described = await admin.describe_topics(list(wanted))
            ready = {
                item["topic"]
                for item in described
                if item["error_code"] == 0
                and len(item["partitions"]) == wanted.get(item["topic"], -1)
                and all(p["leader"] >= 0 for p in item["partitions"])
            }
            if ready >= set(wanted):
                return
            await asyncio.sleep(0.1)


async def partitions_of(settings: KafkaSettings, topic: str) -> list[int]:
    """The partition ids of `topic`; raises LookupError when it does not exist."""
    admin = AIOKafkaAdminClient(**connection_options(settings), client_id="wagate-admin")
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    for item in described:
        if item["topic"] == topic and item["error_code"] == 0 and item["partitions"]:
            return sorted(p["partition"] for p in item["partitions"])
    raise LookupError(f"topic {topic} does not exist (run `wagate topics create`)")


class EventPublisher(Protocol):
    """The port every shell publishes through; `Publisher` is the Kafka adapter."""

    async def publish(
        self,
        spec: TopicSpec,
        event: Event,
        key: str | None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None: ...

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None: ...


class Publisher:
    """Encodes events and produces them; `publish` returns once Kafka acknowledged (acks=all).
    With tracing on, the aiokafka instrumentation (`telemetry.instrument`) puts the current
    trace context in every record's headers, these and faust's alike."""

    def __init__(self, producer: AIOKafkaProducer, settings: KafkaSettings) -> None:
        self._producer = producer
        self._settings = settings

    async def publish(
        self,
        spec: TopicSpec,
        event: Event,
        key: str | None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        await self._producer.send_and_wait(
            self._settings.topic(spec.name),
            codec.encode(event),
            key=codec.encode_key(key),
            headers=list(headers) or None,
        )

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None:
        """Produce several events and wait until every one is acknowledged."""
        futures = [
            await self._producer.send(
                self._settings.topic(spec.name), codec.encode(event), key=codec.encode_key(key)
            )
            for spec, event, key in items
        ]
        await asyncio.gather(*futures)

    async def dead_letter(
        self, record: ConsumerRecord[bytes, bytes], group: str, reason: str
    ) -> None:
        headers = deadletters.headers(
            reason, group, topic=record.topic, partition=record.partition, offset=record.offset
        )
        await self._producer.send_and_wait(
            self._settings.topic(DEAD_LETTERS.name), record.value, key=record.key, headers=headers
        )
