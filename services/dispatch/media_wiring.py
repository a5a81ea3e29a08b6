"""Dispatch's media parts built from its settings (the composition root calls these)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import asyncpg
from prometheus_client import CollectorRegistry

from services.dispatch.media import MediaUploads, PostgresMediaCache
from services.dispatch.media_api import MediaApi
from services.dispatch.media_inbound import InboundMedia
from services.dispatch.media_store import LocalStore
from services.dispatch.settings import DispatchSettings
from shared import runtime
from shared.events.envelope import utcnow
from shared.events.webhooks import InboundMessageReceived
from shared.messaging import ConsumeLoop, Publisher, Subscription, make_consumer
from shared.metrics import ConsumerMetrics
from shared.topics import INBOUND_MESSAGES


def media_uploads(
    settings: DispatchSettings, session: aiohttp.ClientSession, pool: asyncpg.Pool
) -> MediaUploads:
    return MediaUploads(
        MediaApi(session, settings.cloud_api),
        PostgresMediaCache(pool),
        LocalStore(settings.media.outbound_dir),
        utcnow,
        timedelta(seconds=settings.media.reuse_margin_s),
    )


@asynccontextmanager
async def inbound_worker(
    settings: DispatchSettings,
    session: aiohttp.ClientSession,
    publisher: Publisher,
    registry: CollectorRegistry,
) -> AsyncIterator[None]:
    """The inbound media worker on its own consumer group of the inbound messages topic (it
    never holds up sends), and the retention sweep; both stop when the block ends."""
    if not settings.media.inbound:
        yield
        return
    kafka = settings.kafka
    worker = InboundMedia(
        MediaApi(session, settings.cloud_api), LocalStore(settings.media.inbound_dir),
        publisher, utcnow, settings.media.fetch_attempts, settings.media.fetch_backoff_s,
    )  # fmt: skip
    topic = kafka.topic(INBOUND_MESSAGES.name)
    subscriptions: dict[str, Subscription[Any]] = {
        topic: Subscription(INBOUND_MESSAGES, InboundMessageReceived, worker.on_message)
    }
    consumer = make_consumer(kafka, settings.media.inbound_group, [topic])
    await runtime.started("Kafka", consumer.start())
    metrics = ConsumerMetrics.create(registry, "dispatch_media")
    loop = ConsumeLoop(consumer, settings.media.inbound_group, subscriptions, publisher, metrics)
    halt = asyncio.Event()
    tasks = [asyncio.create_task(loop.run_until(halt)), asyncio.create_task(_sweep(settings, halt))]
    try:
        yield
    finally:
        halt.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await consumer.stop()


async def _sweep(settings: DispatchSettings, halt: asyncio.Event, every_s: float = 3600) -> None:
    """Delete kept files past the retention (when one is set), hourly."""
    days = settings.media.retention_days
    if days is None:
        return
    stores = [LocalStore(settings.media.inbound_dir), LocalStore(settings.media.outbound_dir)]
    while not halt.is_set():
        for store in stores:
            await asyncio.to_thread(store.sweep, days * 86400)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(halt.wait(), timeout=every_s)
