"""Composition root of dispatch: pool, ledger, Cloud API session, producer, consume loop."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp

from services.dispatch.cloudapi import CloudApi
from services.dispatch.handlers import Dispatcher, DispatchMetrics
from services.dispatch.settings import DispatchSettings
from services.dispatch.store import Ledger
from shared import db, http, runtime
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import utcnow
from shared.events.webhooks import MessageStatusReported
from shared.messaging import (
    ConsumeLoop,
    Publisher,
    Subscription,
    ensure_topics,
    make_consumer,
    make_producer,
)
from shared.metrics import ConsumerMetrics, new_registry
from shared.topics import ALL_TOPICS, DECISIONS, STATUSES

MIGRATIONS = Path(__file__).with_name("migrations")


async def run(settings: DispatchSettings, stop: asyncio.Event) -> None:
    registry = new_registry()
    readiness = http.Readiness({"postgres": False, "kafka": False})
    kafka = settings.kafka
    async with AsyncExitStack() as stack:
        pool = await db.create_pool(settings.postgres)
        stack.push_async_callback(pool.close)
        await db.migrate(pool, "dispatch", MIGRATIONS)
        readiness.set("postgres", True)
        await runtime.started("Kafka", ensure_topics(kafka, ALL_TOPICS))
        producer = make_producer(kafka, "dispatch")
        await runtime.started("Kafka", producer.start())
        stack.push_async_callback(producer.stop)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        publisher = Publisher(producer, kafka)
        dispatcher = Dispatcher(
            Ledger(pool),
            CloudApi(session, settings.cloud_api),
            publisher,
            DispatchMetrics(registry),
            utcnow,
        )
        subscriptions: dict[str, Subscription[Any]] = {
            kafka.topic(DECISIONS.name): Subscription(
                DECISIONS, PolicyDecisionMade, dispatcher.on_decision
            ),
            kafka.topic(STATUSES.name): Subscription(
                STATUSES, MessageStatusReported, dispatcher.on_status
            ),
        }
        consumer = make_consumer(kafka, settings.group, subscriptions)
        await runtime.started("Kafka", consumer.start())
        stack.push_async_callback(consumer.stop)
        readiness.set("kafka", True)
        app = http.base_app(readiness, registry)
        await stack.enter_async_context(http.serving(app, settings.http, "dispatch"))
        loop = ConsumeLoop(
            consumer,
            settings.group,
            subscriptions,
            publisher,
            ConsumerMetrics.create(registry, "dispatch"),
        )
        await loop.run_until(stop)
