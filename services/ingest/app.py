"""Composition root of ingest: topics, dedupe store, producer, HTTP server, and the
supervised loops (dedupe expiry; the reach of Kafka and PostgreSQL behind /readyz)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path

from aiokafka import AIOKafkaProducer

from services.ingest.handlers import WebhookIntake
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from services.ingest.store import SeenEvents
from services.ingest.web import INTAKE, add_routes
from shared import db, http, logs, runtime
from shared.errors import RetryableError
from shared.messaging import Publisher, ensure_topics, make_producer
from shared.metrics import new_registry
from shared.supervise import (
    Supervisor,
    kafka_probe,
    postgres_probe,
    until_stopped_or_gave_up,
    watch_reach,
)
from shared.topics import ALL_TOPICS

MIGRATIONS = Path(__file__).with_name("migrations")
log = logs.get(__name__)


def make_journal_producer(settings: IngestSettings) -> AIOKafkaProducer:
    """acks=all and idempotent like every producer, plus gzip and a request size that fits
    Meta's largest bodies (3 MB): a journal record must never be too large to keep."""
    return make_producer(
        settings.kafka,
        "ingest",
        compression_type="gzip",
        max_request_size=settings.max_body_bytes + 256 * 1024,
    )


async def expire_forever(
    seen: SeenEvents, settings: IngestSettings, metrics: IngestMetrics
) -> None:
    """Forget dedupe keys older than the retention, now and then every interval."""
    while True:
        try:
            forgotten = await seen.expire(settings.dedupe_retention_s)
        except RetryableError as exc:
            log.warning("dedupe expiry failed, will retry", reason=str(exc))
        else:
            metrics.expired.inc(forgotten)
            if forgotten:
                log.info("dedupe keys expired", count=forgotten)
        await asyncio.sleep(settings.dedupe_expiry_interval_s)


async def run(settings: IngestSettings, stop: asyncio.Event) -> None:
    registry = new_registry()
    metrics = IngestMetrics(registry)
    readiness = http.Readiness({"kafka": False, "postgres": False})
    async with AsyncExitStack() as stack:
        await runtime.started("Kafka", ensure_topics(settings.kafka, ALL_TOPICS))
        pool = await db.create_pool(settings.postgres)
        stack.push_async_callback(pool.close)
        await db.migrate(pool, "ingest", MIGRATIONS)
        readiness.set("postgres", True)
        seen = SeenEvents(pool, settings.dedupe_lease_s)
        producer = make_journal_producer(settings)
        await runtime.started("Kafka", producer.start())
        stack.push_async_callback(producer.stop)
        readiness.set("kafka", True)
        supervisor = Supervisor("ingest", registry, readiness)
        stack.push_async_callback(supervisor.close)
        supervisor.spawn("dedupe-expiry", partial(expire_forever, seen, settings, metrics))
        probes = {"postgres": postgres_probe(pool), "kafka": kafka_probe(producer.client)}
        supervisor.spawn("reach", partial(watch_reach, readiness, probes))
        intake = WebhookIntake(settings, Publisher(producer, settings.kafka), seen, metrics)
        app = http.base_app(readiness, registry, client_max_size=settings.max_body_bytes)
        app[INTAKE] = intake
        add_routes(app)
        await stack.enter_async_context(http.serving(app, settings.http, "ingest"))
        await until_stopped_or_gave_up(stop, supervisor)
    supervisor.check()
