"""Composition root of policy: the faust app with its topics and tables, the handlers wired to
them, the agents, the window timer and the web pages; `run` creates the topics and hands over
to the faust worker."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from functools import partial
from typing import Any

import faust
from faust.types import TableT
from prometheus_client import CollectorRegistry

from services.policy.agents import Topics, add_agents
from services.policy.deferrals import RELEASED_HEADER
from services.policy.handlers import PolicyHandlers
from services.policy.metrics import PolicyMetrics
from services.policy.settings import PolicySettings
from services.policy.tables import TABLES, Tables, TableSpec, changelog_topics
from services.policy.web import add_routes
from shared import http, logs, runtime
from shared.events.envelope import utcnow
from shared.messaging import connection_options, ensure_topics
from shared.metrics import new_registry
from shared.sealing import Sealer
from shared.settings import KafkaSettings
from shared.supervise import Supervisor
from shared.topics import (
    ACCOUNT_UPDATES,
    ALL_TOPICS,
    CALLS,
    CONSENT,
    CONVERSATION_PARTITIONS,
    DEAD_LETTERS,
    DECISIONS,
    IDENTITIES,
    INBOUND_MESSAGES,
    INTENTS,
    STATUSES,
    TEMPLATE_STATES,
    THREAD_CONTROL,
    USER_PREFERENCES,
    WINDOWS,
    TopicSpec,
)

SERVICE = "policy"
log = logs.get(__name__)


def run(settings: PolicySettings) -> None:
    """Create every topic, the tables' changelogs included, then run the faust worker, which
    runs its own event loop until SIGTERM. A broker not there yet is waited for (`/readyz`
    answers 503 meanwhile); SIGTERM while waiting exits 0."""
    try:
        asyncio.run(_topics_created(settings))
    except runtime.Stopped:
        log.info("stopped before it started", service=SERVICE)
        return
    registry = new_registry()
    supervisor = Supervisor(SERVICE, registry, http.Readiness({"timers": True}))
    worker = faust.Worker(
        create_app(settings, registry, supervisor),
        loglevel=settings.log.level.lower(),
        quiet=True,
        override_logging=False,  # keep `logs.configure`'s handler: faust's lines as JSON too
    )
    worker.spinner = None  # its terminal spinner writes control codes into the log
    try:
        worker.execute_from_commandline()
    finally:
        if supervisor.gave_up.is_set():  # stopped because a timer kept failing: not a clean exit
            log.error("stopped: a background loop kept failing", reason=supervisor.reason)
            sys.exit(runtime.EXIT_SOFTWARE)


async def _topics_created(settings: PolicySettings) -> None:
    """Wait for Kafka and create the topics, serving a not-ready /readyz meanwhile."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    readiness = http.Readiness({"kafka": False})
    async with http.starting(readiness, settings.http, SERVICE):
        await runtime.waiting("Kafka", partial(create_topics, settings), stop)


async def create_topics(settings: PolicySettings) -> None:
    await ensure_topics(settings.kafka, ALL_TOPICS)
    unprefixed = settings.kafka.model_copy(update={"topic_prefix": ""})
    await ensure_topics(unprefixed, changelog_topics(settings.app_id))


def create_app(
    settings: PolicySettings,
    registry: CollectorRegistry | None = None,
    supervisor: Supervisor | None = None,
) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=_broker_url(settings.kafka.bootstrap),
        broker_credentials=_credentials(settings.kafka),
        store="memory://",
        datadir=str(settings.data_dir),
        topic_partitions=CONVERSATION_PARTITIONS,
        producer_acks=-1,
        producer_linger=settings.kafka.linger_ms / 1000,  # batches, as every service's producer
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.session_timeout_s / 5,
        consumer_auto_offset_reset="earliest",
        web_enabled=True,
        web_bind=settings.http.host,
        web_host=settings.http.host,
        web_port=settings.http.port,
        web_in_thread=False,
    )
    topics = _topics(app, settings.kafka)
    tables = Tables(**{spec.name: _table(app, spec) for spec in TABLES})
    registry = registry or new_registry()
    supervisor = supervisor or Supervisor(SERVICE, registry, http.Readiness({"timers": True}))

    async def emit_decision(key: str, value: bytes) -> None:
        await topics.decisions.send(key=key.encode(), value=value)

    async def emit_window(key: str, value: bytes) -> None:
        await topics.windows.send(key=key.encode(), value=value)

    async def release(key: str, value: bytes) -> None:
        await topics.intents.send(key=key.encode(), value=value, headers=[(RELEASED_HEADER, b"1")])

    async def reroute(key: str, value: bytes) -> None:
        await topics.intents.send(key=key.encode(), value=value)

    handlers = PolicyHandlers(
        tables=tables,
        config=settings.policy_config(),
        metrics=PolicyMetrics(registry),
        emit_decision=emit_decision,
        reroute_intent=reroute,
        emit_window=emit_window,
        release_intent=release,
        clock=utcnow,
        sealer=Sealer(settings.sealing_keys),
    )
    add_agents(app, topics, handlers, settings.app_id)
    lead = timedelta(seconds=settings.window_expiring_lead_s)

    async def scan() -> None:
        await handlers.announce_due(lead, closed_within=timedelta(hours=1))
        await handlers.deferrals.release_due(utcnow())

    async def announce_windows() -> None:
        """A failing scan is counted and tried again next tick; one failing every tick for
        too long stops the worker as SIGTERM would (its offsets committed), and `run` exits
        non-zero."""
        await supervisor.step("window-timer", scan)
        if supervisor.gave_up.is_set():
            os.kill(os.getpid(), signal.SIGTERM)

    app.timer(interval=settings.window_scan_interval_s, name="announce_windows")(announce_windows)

    add_routes(app, registry, handlers, supervisor.readiness)
    return app


def _topics(app: faust.App, kafka: KafkaSettings) -> Topics:
    def raw(spec: TopicSpec) -> faust.TopicT:
        return app.topic(kafka.topic(spec.name), key_serializer="raw", value_serializer="raw")

    return Topics(
        inbound=raw(INBOUND_MESSAGES),
        intents=raw(INTENTS),
        consent=raw(CONSENT),
        preferences=raw(USER_PREFERENCES),
        template_states=raw(TEMPLATE_STATES),
        decisions=raw(DECISIONS),
        dead_letters=raw(DEAD_LETTERS),
        windows=raw(WINDOWS),
        statuses=raw(STATUSES),
        identities=raw(IDENTITIES),
        calls=raw(CALLS),
        thread_control=raw(THREAD_CONTROL),
        accounts=raw(ACCOUNT_UPDATES),
    )


def _table(app: faust.App, spec: TableSpec) -> TableT[str, Any]:
    kind = app.GlobalTable if spec.everywhere else app.Table
    return kind(spec.name, default=None, partitions=spec.partitions)


def _broker_url(bootstrap: str) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(","))


def _credentials(kafka: KafkaSettings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    options = connection_options(kafka)  # validates the combination once for every client
    if kafka.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=options["sasl_plain_username"],
            password=options["sasl_plain_password"],
            mechanism=options["sasl_mechanism"],
            ssl_context=options.get("ssl_context"),
        )
    if kafka.security_protocol == "SSL":
        return faust.SSLCredentials(options["ssl_context"])
    return None
