"""Composition root of policy: the faust app, its window table, agents and web pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import faust
from prometheus_client import CollectorRegistry, generate_latest

from services.policy import rules
from services.policy.handlers import PolicyHandlers, PolicyMetrics
from services.policy.settings import PolicySettings
from shared import codec, logs
from shared.errors import DecodeError
from shared.events.envelope import utcnow
from shared.events.intents import OutboundIntentSubmitted
from shared.events.webhooks import InboundMessageReceived
from shared.metrics import new_registry
from shared.topics import (
    CONVERSATION_PARTITIONS,
    DEAD_LETTERS,
    DECISIONS,
    INBOUND_MESSAGES,
    INTENTS,
    TopicSpec,
)

log = logs.get(__name__)
# the exposition format without its charset, which faust's aiohttp driver refuses
_PROMETHEUS_TEXT = "text/plain; version=0.0.4"


def _broker_url(bootstrap: str) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(","))


@dataclass(frozen=True)
class Topics:
    inbound: faust.TopicT
    intents: faust.TopicT
    decisions: faust.TopicT
    dead_letters: faust.TopicT


def create_app(settings: PolicySettings) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=_broker_url(settings.kafka.bootstrap),
        store="memory://",
        datadir=str(settings.data_dir),
        topic_partitions=CONVERSATION_PARTITIONS,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        web_enabled=True,
        web_bind=settings.http.host,
        web_host=settings.http.host,
        web_port=settings.http.port,
        web_in_thread=False,
    )

    def raw_topic(spec: TopicSpec) -> faust.TopicT:
        return app.topic(
            settings.kafka.topic(spec.name), key_serializer="raw", value_serializer="raw"
        )

    topics = Topics(
        raw_topic(INBOUND_MESSAGES),
        raw_topic(INTENTS),
        raw_topic(DECISIONS),
        raw_topic(DEAD_LETTERS),
    )
    windows = app.Table("windows", default=None, partitions=CONVERSATION_PARTITIONS)
    registry = new_registry()

    async def emit_decision(key: str, value: bytes) -> None:
        await topics.decisions.send(key=key.encode(), value=value)

    async def reroute(key: str, value: bytes) -> None:
        await topics.intents.send(key=key.encode(), value=value)

    handlers = PolicyHandlers(
        windows=windows,
        config=rules.PolicyConfig(timedelta(seconds=settings.window_safety_margin_s)),
        metrics=PolicyMetrics(registry),
        emit_decision=emit_decision,
        reroute_intent=reroute,
        clock=utcnow,
    )
    _add_agents(app, topics, handlers, settings.app_id)
    _add_pages(app, registry)
    return app


def _add_agents(app: faust.App, topics: Topics, handlers: PolicyHandlers, group: str) -> None:
    async def dead_letter(event: Any, error: DecodeError) -> None:
        msg = event.message
        log.warning(
            "dead-lettered",
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            reason=str(error),
        )
        await topics.dead_letters.send(
            key=event.key,
            value=event.value,
            headers=[
                ("wagate-reason", str(error)[:1000].encode()),
                ("wagate-source-topic", msg.topic.encode()),
                ("wagate-source-partition", str(msg.partition).encode()),
                ("wagate-source-offset", str(msg.offset).encode()),
                ("wagate-consumer-group", group.encode()),
            ],
        )

    @app.agent(topics.inbound, name="track_windows")
    async def track_windows(stream: Any) -> None:
        async for event in stream.events():
            try:
                message = codec.decode(InboundMessageReceived, event.value)
            except DecodeError as exc:
                await dead_letter(event, exc)
                continue
            handlers.on_inbound(message)

    @app.agent(topics.intents, name="decide_intents")
    async def decide_intents(stream: Any) -> None:
        async for event in stream.events():
            try:
                intent = codec.decode(OutboundIntentSubmitted, event.value)
            except DecodeError as exc:
                await dead_letter(event, exc)
                continue
            await handlers.on_intent(intent, event.key, event.value)


def _add_pages(app: faust.App, registry: CollectorRegistry) -> None:
    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        ready = bool(app.consumer.assignment()) and not app.rebalancing
        return web.json({"ready": ready}, status=200 if ready else 503)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(registry), content_type=_PROMETHEUS_TEXT)
