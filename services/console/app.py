"""Composition root of the console: pool and migrations, producer (for redrives), the
read-model consumer, retention, and the web app (`build_web`, which the tests call too)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry

from services.console import live, pages
from services.console import web as console_web
from services.console.access import Token
from services.console.handlers import ReadModel, Redriver, Retention, SandboxCustomer, TokenFile
from services.console.metrics import ConsoleMetrics
from services.console.queries import Queries
from services.console.settings import ConsoleSettings
from services.console.store import ReadModelStore
from shared import db, http, logs, runtime
from shared.errors import RetryableError
from shared.events.envelope import Event, utcnow
from shared.messaging import ensure_topics, make_consumer, make_producer
from shared.metrics import new_registry
from shared.settings import KafkaSettings
from shared.supervise import Supervisor, kafka_probe, postgres_probe, watch_reach
from shared.topics import (
    ACCOUNT_UPDATES,
    ALL_TOPICS,
    CONSENT,
    DEAD_LETTERS,
    DECISIONS,
    DELIVERY,
    INBOUND_MESSAGES,
    INTENTS,
    TEMPLATE_STATES,
    USER_PREFERENCES,
    WINDOWS,
)

MIGRATIONS = Path(__file__).with_name("migrations")
READ = (INTENTS, DECISIONS, DELIVERY, WINDOWS, CONSENT, USER_PREFERENCES, INBOUND_MESSAGES,
        TEMPLATE_STATES, ACCOUNT_UPDATES, DEAD_LETTERS)  # fmt: skip
log = logs.get(__name__)


def topic_models(kafka: KafkaSettings) -> dict[str, type[Event] | None]:
    """Each topic the read model follows, as Kafka names it here, with its event model."""
    return {kafka.topic(spec.name): spec.model for spec in READ}


def build_web(
    settings: ConsoleSettings,
    tokens: Callable[[], tuple[Token, ...]],
    console: pages.Console,
    metrics: ConsoleMetrics,
    readiness: http.Readiness,
    registry: CollectorRegistry,
) -> web.Application:
    app = http.base_app(readiness, registry)
    guard = console_web.Access(
        tokens,
        settings.trusted(),
        settings.session_max_age_s,
        settings.cookie_secure,
        metrics,
    )
    console_web.setup(app, guard)
    pages.add_routes(app, console)
    live.add_routes(app, live.LiveViews(settings.live_interval_s, settings.max_live_views, metrics))
    return app


async def run(settings: ConsoleSettings, stop: asyncio.Event) -> None:
    registry = new_registry()
    metrics = ConsoleMetrics(registry)
    readiness = http.Readiness({"postgres": False, "kafka": False})
    kafka = settings.kafka
    async with AsyncExitStack() as stack:
        pool = await db.create_pool(settings.postgres)
        stack.push_async_callback(pool.close)
        await db.migrate(pool, "console", MIGRATIONS)
        readiness.set("postgres", True)
        await runtime.started("Kafka", ensure_topics(kafka, ALL_TOPICS))
        producer = make_producer(kafka, "console")
        await runtime.started("Kafka", producer.start())
        stack.push_async_callback(producer.stop)
        models = topic_models(kafka)
        consumer = make_consumer(kafka, settings.group, models)
        await runtime.started("Kafka", consumer.start())
        stack.push_async_callback(consumer.stop)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        store = ReadModelStore(pool)
        console = pages.Console(
            Queries(pool, settings.page_size),
            store,
            Redriver(producer, kafka, store, metrics),
            SandboxCustomer(session, settings.sandbox_url) if settings.sandbox_url else None,
            utcnow,
        )
        tokens = (
            TokenFile(Path(settings.tokens_file)).current
            if settings.tokens_file
            else settings.token_list
        )
        tokens()  # a token file that cannot be read stops the start here
        app = build_web(settings, tokens, console, metrics, readiness, registry)
        url = await stack.enter_async_context(http.serving(app, settings.http, "console"))
        log.info("console ready", url=url)
        retention = Retention(store, metrics, utcnow, settings.retention_days)
        supervisor = Supervisor("console", registry, readiness)
        stack.push_async_callback(supervisor.close)
        forget = partial(_every, retention.once, settings.retention_interval_s, readiness)
        supervisor.spawn("retention", forget)
        readiness.set("kafka", True)
        probes = {"postgres": postgres_probe(pool), "kafka": kafka_probe(producer.client)}
        supervisor.spawn("reach", partial(watch_reach, readiness, probes))
        reader = ReadModel(consumer, store, models, metrics, kafka.max_batch, settings.poll_ms)
        await reader.run_until(supervisor.halting(stop))
    supervisor.check()


async def _every(
    job: Callable[[], Awaitable[object]], interval_s: float, readiness: http.Readiness
) -> None:
    """Run a periodic job; while the database fails it, the console is not ready."""
    while True:
        try:
            await job()
            readiness.set("postgres", True)
        except RetryableError as exc:
            readiness.set("postgres", False)
            log.warning("retention failed", reason=str(exc))
        await asyncio.sleep(interval_s)
