"""Dispatch's media parts built from its settings (the composition root calls these)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal

import aiohttp
import asyncpg
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from services.dispatch.media import MediaUploads, PostgresMediaCache
from services.dispatch.media_api import MediaApi
from services.dispatch.media_inbound import InboundMedia
from services.dispatch.media_settings import MediaSettings
from services.dispatch.media_store import LocalStore, MediaStore, S3Store
from services.dispatch.settings import DispatchSettings
from shared import runtime
from shared.events.envelope import utcnow
from shared.events.webhooks import InboundMessageReceived
from shared.messaging import ConsumeLoop, Publisher, Subscription, make_consumer
from shared.metrics import ConsumerMetrics
from shared.supervise import Supervisor
from shared.topics import INBOUND_MESSAGES

STOP_WAIT_S = 10.0  # on the way out, for the file being fetched (else it is fetched next start)


def media_store(media: MediaSettings, kind: Literal["inbound", "outbound"]) -> MediaStore:
    """Where files of `kind` are kept, as configured: a directory, or the bucket under
    `<prefix>/<kind>`."""
    if media.store == "s3":
        return S3Store(media.s3, kind)
    directory: Path = media.inbound_dir if kind == "inbound" else media.outbound_dir
    return LocalStore(directory)


def media_uploads(
    settings: DispatchSettings, session: aiohttp.ClientSession, pool: asyncpg.Pool
) -> MediaUploads:
    return MediaUploads(
        MediaApi(session, settings.cloud_api),
        PostgresMediaCache(pool),
        media_store(settings.media, "outbound"),
        utcnow,
        timedelta(seconds=settings.media.reuse_margin_s),
    )


@asynccontextmanager
async def inbound_worker(
    settings: DispatchSettings,
    session: aiohttp.ClientSession,
    publisher: Publisher,
    registry: CollectorRegistry,
    supervisor: Supervisor,
) -> AsyncIterator[None]:
    """The inbound media worker on its own consumer group of the inbound messages topic (it
    never holds up sends), and the retention sweep, both run by the supervisor (a failure is
    restarted after a back-off); both stop when the block ends."""
    if not settings.media.inbound:
        yield
        return
    kafka = settings.kafka
    worker = InboundMedia(
        MediaApi(session, settings.cloud_api), media_store(settings.media, "inbound"),
        publisher, utcnow, settings.media.fetch_attempts, settings.media.fetch_backoff_s,
    )  # fmt: skip
    topic = kafka.topic(INBOUND_MESSAGES.name)
    subscriptions: dict[str, Subscription[Any]] = {
        topic: Subscription(INBOUND_MESSAGES, InboundMessageReceived, worker.on_message)
    }
    consumer = make_consumer(kafka, settings.media.inbound_group, [topic])
    await runtime.started("Kafka", consumer.start())
    metrics = ConsumerMetrics.create(registry, "dispatch_media")
    halt = asyncio.Event()

    group = settings.media.inbound_group
    loop = partial(ConsumeLoop, consumer, group, subscriptions, publisher, metrics)
    tasks = [
        supervisor.spawn("media_inbound", restartable(consumer, loop, halt)),
        supervisor.spawn("media_sweep", partial(_sweep, settings, halt)),
    ]
    try:
        yield
    finally:
        halt.set()  # the record in hand is finished and committed; a loop waiting to restart
        _, waiting = await asyncio.wait(tasks, timeout=STOP_WAIT_S)  # is not waited for
        for task in waiting:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await consumer.stop()


def restartable(
    consumer: AIOKafkaConsumer, loop: Callable[[], ConsumeLoop], halt: asyncio.Event
) -> Callable[[], Awaitable[None]]:
    """A consume loop the supervisor may start again after a failure: each start is a fresh
    loop over the same consumer, put back first where its group committed, so every message
    fetched and not finished is read again (none skipped by the failure)."""

    async def consume() -> None:
        await rewind(consumer)
        await loop().run_until(halt)

    return consume


async def rewind(consumer: AIOKafkaConsumer) -> None:
    """Put each assigned partition back at its committed offset (at the start when the group
    committed none: the consumer's `earliest`)."""
    for tp in consumer.assignment():
        committed = await consumer.committed(tp)
        if committed is None:
            await consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, committed)


async def _sweep(settings: DispatchSettings, halt: asyncio.Event, every_s: float = 3600) -> None:
    """Delete kept files past the retention (when one is set), hourly."""
    days = settings.media.retention_days
    if days is None:
        return
    stores = [media_store(settings.media, kind) for kind in ("inbound", "outbound")]
    while not halt.is_set():
        for store in stores:
            await asyncio.to_thread(store.sweep, days * 86400)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(halt.wait(), timeout=every_s)
