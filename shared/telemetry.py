"""Installing tracing: the tracer provider (resource, sampler, exporters: OTLP/HTTP and a
JSON-lines file) and OpenTelemetry's instrumentations of aiokafka, aiohttp and asyncpg. Off by
default: nothing is installed, so nothing is recorded or sent."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.util.types import Attributes

from shared.logs import mask_digits
from shared.metrics import build
from shared.settings import TracingSettings

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
_URL_ATTRIBUTES = ("http.target", "http.url", "url.full", "url.query")
_KEY_ATTRIBUTE = "messaging.kafka.message.key"


def setup(settings: TracingSettings, service: str) -> TracerProvider | None:
    """Install the tracer provider and the instrumentations when an exporter is configured;
    returns the provider (None when tracing is off). Call once, before any client is made."""
    if not settings.enabled:
        return None
    provider = tracer_provider(settings, service)
    trace.set_tracer_provider(provider)
    instrument(provider)
    return provider


def tracer_provider(settings: TracingSettings, service: str) -> TracerProvider:
    version, revision = build()
    resource = Resource.create(
        {
            "service.name": f"wagate-{service}",
            "service.namespace": "wagate",
            "service.version": version,
            "vcs.ref.head.revision": revision,
        }
    )
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(KeptRoots(settings.sample_ratio))
    )
    provider.add_span_processor(QueryValuesHidden())
    if settings.otlp_endpoint:
        exporter = OTLPSpanExporter(
            endpoint=traces_url(settings.otlp_endpoint),
            headers={k: v.get_secret_value() for k, v in settings.otlp_headers.items()},
            timeout=settings.otlp_timeout_s,
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
    if settings.file:
        provider.add_span_processor(SimpleSpanProcessor(SpanFile(Path(settings.file))))
    return provider


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector's base URL (a full traces URL is kept)."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def instrument(provider: TracerProvider) -> None:
    """Trace every Kafka produce (injecting the context into its headers), HTTP request made
    or served, and SQL statement (without its parameters)."""
    AIOKafkaInstrumentor().instrument(tracer_provider=provider, async_produce_hook=mask_key)
    # The consume side is ours (`processing`): the instrumentation's receive spans end before
    # the handler runs, and every poll would start a trace of its own.
    unwrap(AIOKafkaConsumer, "getone")
    unwrap(AIOKafkaConsumer, "getmany")
    AioHttpClientInstrumentor().instrument(tracer_provider=provider)
    with warnings.catch_warnings():
        # It subclasses web.Application (its way of adding its middleware to every app made,
        # faust's too), which aiohttp discourages with a DeprecationWarning.
        warnings.simplefilter("ignore", DeprecationWarning)
        AioHttpServerInstrumentor().instrument(tracer_provider=provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]


def uninstrument() -> None:
    for instrumentor in (
        AIOKafkaInstrumentor(),
        AioHttpClientInstrumentor(),
        AioHttpServerInstrumentor(),
        AsyncPGInstrumentor(),  # type: ignore[no-untyped-call]
    ):
        instrumentor.uninstrument()


class KeptRoots(Sampler):
    """Which new traces are kept: the configured share, but never one that would hold nothing
    but a database call of a periodic job, a probe or scrape, or a faust table write."""

    def __init__(self, ratio: float) -> None:
        self._ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if _alone_it_says_nothing(name, attributes or {}):
            return SamplingResult(Decision.DROP)
        return self._ratio.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"KeptRoots{{{self._ratio.get_description()}}}"


def _alone_it_says_nothing(name: str, attributes: Mapping[str, Any]) -> bool:
    if "db.system" in attributes or "db.system.name" in attributes:
        return True
    if attributes.get("url.path", attributes.get("http.target")) in PROBES:
        return True
    return name.endswith("-changelog send")


async def mask_key(span: Span, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A record key names the customer (`phone_number_id:to`): keep it out of traces in clear."""
    key = kwargs.get("key", args[2] if len(args) > 2 else None)
    if key is None or not span.is_recording():
        return
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    head, colon, tail = text.partition(":")
    span.set_attribute(
        _KEY_ATTRIBUTE, f"{head}:{mask_digits(tail)}" if colon else mask_digits(text)
    )


class QueryValuesHidden(SpanProcessor):
    """HTTP spans show the URL as requested, query string included (Meta's handshake sends the
    verify token in one): keep each parameter's name, never its value. Done as each span
    starts, when the instrumentations have set the URL, so no exporter ever sees a value."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        attributes = getattr(span, "attributes", None) or {}
        for key in _URL_ATTRIBUTES:
            value = attributes.get(key)
            if isinstance(value, str) and (key == "url.query" or "?" in value):
                span.set_attribute(key, hide_query_values(value, whole=key == "url.query"))


def hide_query_values(url: str, *, whole: bool = False) -> str:
    """`url` with each query parameter's value replaced by `*` (`whole`: `url` is the query)."""
    head, mark, query = ("", "", url) if whole else url.partition("?")
    names = [part.split("=", 1)[0] for part in query.split("#", 1)[0].split("&") if part]
    return head + mark + "&".join(f"{name}=*" for name in names)


class SpanFile(SpanExporter):
    """Finished spans appended to a file as JSON lines, for tests that read them back and for a
    look at traces without a collector."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(span.to_json(indent=None) + "\n" for span in spans)
        with self._path.open("a", encoding="utf-8") as out:
            out.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None
