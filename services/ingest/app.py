"""Composition root of ingest: producer, topics, HTTP server."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from services.ingest.handlers import IngestMetrics, WebhookIntake
from services.ingest.settings import IngestSettings
from services.ingest.web import INTAKE, add_routes
from shared import http, runtime
from shared.messaging import Publisher, ensure_topics, make_producer
from shared.metrics import new_registry
from shared.topics import ALL_TOPICS


async def run(settings: IngestSettings, stop: asyncio.Event) -> None:
    registry = new_registry()
    readiness = http.Readiness({"kafka": False})
    async with AsyncExitStack() as stack:
        await runtime.started("Kafka", ensure_topics(settings.kafka, ALL_TOPICS))
        producer = make_producer(settings.kafka, "ingest")
        await runtime.started("Kafka", producer.start())
        stack.push_async_callback(producer.stop)
        readiness.set("kafka", True)
        intake = WebhookIntake(
            settings, Publisher(producer, settings.kafka), IngestMetrics(registry)
        )
        app = http.base_app(readiness, registry, client_max_size=settings.max_body_bytes)
        app[INTAKE] = intake
        add_routes(app)
        await stack.enter_async_context(http.serving(app, settings.http, "ingest"))
        await stop.wait()
