"""Composition root of dispatch: pool, ledger, Cloud API session, producer, per-number
senders, settler and the consume loop; closed in reverse order on SIGTERM."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from services.dispatch.backpressure import Backpressure, RebalanceListener
from services.dispatch.cloudapi import CloudApi
from services.dispatch.handlers import Dispatcher
from services.dispatch.ledger import Ledger
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Reporter
from services.dispatch.sender import Senders
from services.dispatch.settings import DispatchSettings
from services.dispatch.settler import Settler
from services.dispatch.store import PostgresLedger
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
from shared.sealing import Sealer
from shared.topics import ALL_TOPICS, DECISIONS, STATUSES

MIGRATIONS = Path(__file__).with_name("migrations")


async def run(settings: DispatchSettings, stop: asyncio.Event) -> None:
    settings = settings.with_registry()
    registry = new_registry()
    metrics = DispatchMetrics(registry)
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
        connector = aiohttp.TCPConnector(limit=settings.cloud_api.max_connections)
        session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
        publisher = Publisher(producer, kafka)
        ledger = PostgresLedger(pool)
        reporter = Reporter(ledger, publisher, metrics, settings.group)
        consumer = make_consumer(kafka, settings.group, [])
        backpressure = Backpressure(
            consumer, settings.backlog_high, settings.backlog_low, metrics.paused
        )
        senders = Senders(settings, backpressure, metrics, utcnow)
        stack.push_async_callback(senders.close)  # after the consumer stopped: finish sends
        policy = settings.retry.policy()
        dispatcher = Dispatcher(
            ledger,
            CloudApi(session, settings.cloud_api),
            reporter,
            senders,
            backpressure,
            metrics,
            utcnow,
            policy,
            sealer=Sealer(settings.sealing_keys),
        )
        senders.bind(dispatcher.attempt, dispatcher.reload)
        settler = Settler(ledger, reporter, senders, metrics, settings, policy, utcnow)
        await _restore(ledger, senders)
        subscriptions: dict[str, Subscription[Any]] = {
            kafka.topic(DECISIONS.name): Subscription(
                DECISIONS, PolicyDecisionMade, dispatcher.on_decision
            ),
            kafka.topic(STATUSES.name): Subscription(
                STATUSES, MessageStatusReported, dispatcher.on_status
            ),
        }
        consumer.subscribe(list(subscriptions), listener=RebalanceListener(backpressure))
        await runtime.started("Kafka", consumer.start())
        stack.push_async_callback(consumer.stop)
        readiness.set("kafka", True)
        app = http.base_app(readiness, registry)
        app.router.add_get("/numbers", _numbers(settings))
        await stack.enter_async_context(http.serving(app, settings.http, "dispatch"))
        loop = ConsumeLoop(
            consumer,
            settings.group,
            subscriptions,
            publisher,
            ConsumerMetrics.create(registry, "dispatch"),
        )
        await _until_stopped(loop, settler, senders, stop)


async def _restore(ledger: Ledger, senders: Senders) -> None:
    """Intents queued before a restart: each number's sender reads its own from the ledger."""
    for phone_number_id in await ledger.queued_numbers():
        senders.get(phone_number_id).refill_soon()


async def _until_stopped(
    loop: ConsumeLoop, settler: Settler, senders: Senders, stop: asyncio.Event
) -> None:
    """Run until SIGTERM or a sender crash; a crash is re-raised once everything stopped."""
    halt = asyncio.Event()
    watchers = [
        asyncio.create_task(stop.wait()),
        asyncio.create_task(senders.failed.wait()),
    ]
    settling = asyncio.create_task(settler.run(halt))
    consuming = asyncio.create_task(loop.run_until(halt))
    await asyncio.wait([*watchers, consuming], return_when=asyncio.FIRST_COMPLETED)
    halt.set()
    for watcher in watchers:
        watcher.cancel()
    await asyncio.gather(settling, consuming)
    crash = senders.crash()
    if crash is not None:
        raise crash


def _numbers(settings: DispatchSettings) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def numbers(_: web.Request) -> web.Response:
        return web.json_response({"numbers": settings.registry_view()})

    return numbers
