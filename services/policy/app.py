"""Composition root of policy: the faust app, its window table, agents and web pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import faust
from faust.types import TableT
from prometheus_client import CollectorRegistry, generate_latest

from services.policy.deferrals import RELEASED_HEADER
from services.policy.handlers import PolicyHandlers
from services.policy.metrics import PolicyMetrics
from services.policy.settings import PolicySettings
from services.policy.tables import TABLES, Tables, TableSpec
from shared import codec, logs
from shared.errors import DecodeError
from shared.events.consent import ConsentChanged
from shared.events.envelope import Event, utcnow
from shared.events.intents import OutboundIntentSubmitted
from shared.events.preferences import UserPreferenceChanged
from shared.events.template_states import TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived
from shared.messaging import connection_options
from shared.metrics import new_registry
from shared.sealing import Sealer
from shared.settings import KafkaSettings
from shared.topics import (
    CONSENT,
    CONVERSATION_PARTITIONS,
    DEAD_LETTERS,
    DECISIONS,
    INBOUND_MESSAGES,
    INTENTS,
    TEMPLATE_STATES,
    USER_PREFERENCES,
    WINDOWS,
    TopicSpec,
)

log = logs.get(__name__)
E = TypeVar("E", bound=Event)
# the exposition format without its charset, which faust's aiohttp driver refuses
_PROMETHEUS_TEXT = "text/plain; version=0.0.4"


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


@dataclass(frozen=True)
class Topics:
    inbound: faust.TopicT
    intents: faust.TopicT
    consent: faust.TopicT
    preferences: faust.TopicT
    template_states: faust.TopicT
    decisions: faust.TopicT
    dead_letters: faust.TopicT
    windows: faust.TopicT


def create_app(settings: PolicySettings) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=_broker_url(settings.kafka.bootstrap),
        broker_credentials=_credentials(settings.kafka),
        store="memory://",
        datadir=str(settings.data_dir),
        topic_partitions=CONVERSATION_PARTITIONS,
        producer_acks=-1,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.session_timeout_s / 5,
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
        *(
            raw_topic(s)
            for s in (
                INBOUND_MESSAGES,
                INTENTS,
                CONSENT,
                USER_PREFERENCES,
                TEMPLATE_STATES,
                DECISIONS,
                DEAD_LETTERS,
                WINDOWS,
            )
        )
    )
    tables = Tables(**{spec.name: _table(app, spec) for spec in TABLES})
    registry = new_registry()

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
        stop_words=frozenset(w.casefold() for w in settings.stop_words),
        start_words=frozenset(w.casefold() for w in settings.start_words),
    )
    _add_agents(app, topics, handlers, settings.app_id)
    lead = timedelta(seconds=settings.window_expiring_lead_s)

    async def announce_windows() -> None:
        await handlers.announce_due(lead, closed_within=timedelta(hours=1))
        await handlers.deferrals.release_due(utcnow())

    app.timer(interval=settings.window_scan_interval_s, name="announce_windows")(announce_windows)

    _add_pages(app, registry, handlers)
    return app


def _table(app: faust.App, spec: TableSpec) -> TableT[str, Any]:
    kind = app.GlobalTable if spec.everywhere else app.Table
    return kind(spec.name, default=None, partitions=spec.partitions)


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

    def consume(
        topic: faust.TopicT, model: type[E], name: str, handle: Callable[[E, Any], Awaitable[None]]
    ) -> None:
        async def agent(stream: Any) -> None:
            async for event in stream.events():
                try:
                    value = codec.decode(model, event.value)
                except DecodeError as exc:
                    await dead_letter(event, exc)
                    continue
                await handle(value, event)

        app.agent(topic, name=name)(agent)

    def sync(fn: Callable[[E], None]) -> Callable[[E, Any], Awaitable[None]]:
        async def handle(value: E, _: Any) -> None:
            fn(value)

        return handle

    async def decide(intent: OutboundIntentSubmitted, event: Any) -> None:
        released = _header(event.headers, RELEASED_HEADER) is not None
        await handlers.on_intent(
            intent, event.key, event.value, released=released, partition=event.message.partition
        )

    async def inbound(message: InboundMessageReceived, _: Any) -> None:
        await handlers.on_inbound(message)

    consume(topics.inbound, InboundMessageReceived, "track_windows", inbound)
    consume(topics.consent, ConsentChanged, "track_consent", sync(handlers.on_consent))
    consume(
        topics.preferences, UserPreferenceChanged, "track_preferences", sync(handlers.on_preference)
    )
    consume(
        topics.template_states,
        TemplateStateChanged,
        "track_templates",
        sync(handlers.on_template_state),
    )
    consume(topics.intents, OutboundIntentSubmitted, "decide_intents", decide)


def _header(headers: Any, name: str) -> bytes | None:
    """A record header's value; faust hands headers as a mapping or as (name, value) pairs."""
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    for key, value in items:
        if key == name:
            return bytes(value)
    return None


def _add_pages(app: faust.App, registry: CollectorRegistry, handlers: PolicyHandlers) -> None:
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

    @app.page("/windows/{phone_number_id}/{wa_id}")
    async def window(web: Any, request: Any, phone_number_id: str, wa_id: str) -> Any:
        return web.json(handlers.window_view(phone_number_id, wa_id))

    @app.page("/consent/{phone_number_id}/{wa_id}")
    async def consent(web: Any, request: Any, phone_number_id: str, wa_id: str) -> Any:
        return web.json(handlers.consent_view(phone_number_id, wa_id))
