"""Composition root of templates: pool and migrations, producer, Cloud API session, HTTP API,
the consumer of template webhook updates, and the supervised loops: the periodic sync, the
repair loop and the reach of Kafka and PostgreSQL behind /readyz."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from aiokafka.errors import KafkaError

from services.templates import sync, web
from services.templates.cloudapi import TemplateApi
from services.templates.errors import StoreUnavailable
from services.templates.handlers import Registry
from services.templates.header_samples import ResumableUploads
from services.templates.metrics import TemplateMetrics
from services.templates.settings import TemplatesSettings
from services.templates.starter import starter_templates
from services.templates.store import TemplateStore
from shared import http, logs, runtime
from shared.events.envelope import utcnow
from shared.events.templates import TemplateUpdateReported
from shared.messaging import (
    ConsumeLoop,
    Publisher,
    Subscription,
    make_consumer,
    make_producer,
)
from shared.metrics import ConsumerMetrics, new_registry
from shared.supervise import Supervisor, kafka_probe, postgres_probe, watch_reach
from shared.topics import TEMPLATE_UPDATES

MIGRATIONS = Path(__file__).with_name("migrations")
log = logs.get(__name__)


async def run(settings: TemplatesSettings, stop: asyncio.Event) -> None:
    registry = new_registry()
    readiness = http.Readiness({"postgres": False, "kafka": False})
    kafka = settings.kafka
    async with AsyncExitStack() as stack:
        producer = make_producer(kafka, "templates")
        starting = await stack.enter_async_context(AsyncExitStack())
        await starting.enter_async_context(http.starting(readiness, settings.http, "templates"))
        pool = await runtime.dependencies(
            "templates", settings.postgres, MIGRATIONS, kafka, producer, stack, stop, readiness
        )
        publisher = Publisher(producer, kafka)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        templates = Registry(
            TemplateStore(pool),
            TemplateApi(session, settings.cloud_api),
            publisher,
            utcnow,
            TemplateMetrics(registry),
            settings.templates_per_waba,
            ResumableUploads(session, settings.cloud_api),
        )
        subscriptions: dict[str, Subscription[Any]] = {
            kafka.topic(TEMPLATE_UPDATES.name): Subscription(
                TEMPLATE_UPDATES, TemplateUpdateReported, templates.on_update
            ),
        }
        consumer = make_consumer(kafka, settings.group, subscriptions)
        await runtime.waiting("Kafka", consumer.start, stop)
        stack.push_async_callback(consumer.stop)
        if settings.seed_waba_id:
            seeding = partial(sync.seed, templates, settings.seed_waba_id, starter_templates())
            seeded = await runtime.waiting("PostgreSQL", seeding, stop)
            log.info("starter templates created", count=seeded, waba_id=settings.seed_waba_id)
        published = await runtime.waiting(
            "PostgreSQL and Kafka", partial(sync.republish_all, templates), stop
        )
        log.info("template states published", count=published)
        readiness.set("kafka", True)
        await starting.aclose()
        app = http.base_app(readiness, registry)
        web.add_routes(app, templates, settings.api_keys)
        await stack.enter_async_context(http.serving(app, settings.http, "templates"))
        supervisor = Supervisor("templates", registry, readiness)
        stack.push_async_callback(supervisor.close)
        if settings.sync_interval_s > 0:
            supervisor.spawn("sync", partial(_sync_every, templates, settings.sync_interval_s))
        if settings.repair_interval_s > 0:
            repair = partial(_repair_every, templates, settings.repair_interval_s)
            supervisor.spawn("repair", repair)
        probes = {"postgres": postgres_probe(pool), "kafka": kafka_probe(producer.client)}
        supervisor.spawn("reach", partial(watch_reach, readiness, probes))
        loop = ConsumeLoop(
            consumer,
            settings.group,
            subscriptions,
            publisher,
            ConsumerMetrics.create(registry, "templates"),
        )
        await loop.run_until(supervisor.halting(stop))
    supervisor.check()


async def _sync_every(templates: Registry, interval_s: float) -> None:
    """Catch what webhooks missed: read every account's templates back, then wait."""
    while True:
        await sync.sync_all(templates)
        await asyncio.sleep(interval_s)


async def _repair_every(templates: Registry, interval_s: float) -> None:
    """Publish what a broker outage kept off the states topic; submit what the Cloud API
    could not take."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            repaired = await sync.republish_pending(templates)
            resubmitted = await sync.resubmit_unreached(templates)
        except (StoreUnavailable, KafkaError) as exc:
            log.warning("repair failed", reason=str(exc))
            continue
        if repaired or resubmitted:
            log.info("repaired", states_published=repaired, drafts_submitted=resubmitted)
