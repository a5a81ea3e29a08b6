"""Installing tracing: off by default (nothing installed), spans exported by OTLP/HTTP or to a
JSON-lines file when configured, the service named in the resource, new traces sampled without
the ones that say nothing alone, and record keys kept out of traces in clear."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry import trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased
from opentelemetry.trace import SpanKind

from shared import telemetry
from shared.metrics import build
from shared.settings import TracingSettings

tracer = trace.get_tracer("tests")


def test_tracing_is_off_by_default_and_then_installs_nothing() -> None:
    settings = TracingSettings()
    assert not settings.enabled and settings.sample_ratio == 1.0
    provider_before = trace.get_tracer_provider()
    assert telemetry.setup(settings, "dispatch") is None
    assert trace.get_tracer_provider() is provider_before
    assert not AIOKafkaInstrumentor().is_instrumented_by_opentelemetry


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://collector:4318", "http://collector:4318/v1/traces"),
        ("http://collector:4318/", "http://collector:4318/v1/traces"),
        ("https://otlp.example/v1/traces", "https://otlp.example/v1/traces"),
        ("https://otlp.example/tenant-7", "https://otlp.example/tenant-7/v1/traces"),
    ],
)
def test_the_traces_url_of_a_collector(endpoint: str, url: str) -> None:
    assert telemetry.traces_url(endpoint) == url


def test_spans_go_to_the_file_as_json_lines_naming_the_service(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    provider = telemetry.tracer_provider(TracingSettings(file=str(path)), "policy")
    own = provider.get_tracer("tests")
    with own.start_as_current_span("outer"), own.start_as_current_span("inner"):
        pass
    provider.shutdown()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [s["name"] for s in lines] == ["inner", "outer"]
    inner, outer = lines
    assert inner["context"]["trace_id"] == outer["context"]["trace_id"]
    assert inner["parent_id"] == outer["context"]["span_id"]
    version, revision = build()
    assert inner["resource"]["attributes"] == {
        **inner["resource"]["attributes"],
        "service.name": "wagate-policy",
        "service.namespace": "wagate",
        "service.version": version,
        "vcs.ref.head.revision": revision,
    }


async def test_spans_are_exported_by_otlp_http_with_the_configured_headers() -> None:
    received: list[tuple[str, str | None, bytes]] = []

    async def collect(request: web.Request) -> web.Response:
        received.append((request.path, request.headers.get("x-api-key"), await request.read()))
        return web.Response(body=b"", content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", collect)
    async with TestServer(app) as server:
        settings = TracingSettings(
            otlp_endpoint=str(server.make_url("/")),
            otlp_headers={"x-api-key": "k-1"},  # type: ignore[dict-item]
        )
        provider = telemetry.tracer_provider(settings, "dispatch")
        with provider.get_tracer("tests").start_as_current_span("send"):
            pass
        # the exporter posts from its own thread: keep the loop free to answer it
        assert await asyncio.to_thread(provider.force_flush)
        await asyncio.to_thread(provider.shutdown)
    [(path, key, body)] = received
    assert (path, key) == ("/v1/traces", "k-1")
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "wagate-dispatch"
    assert [s.name for s in resource_spans.scope_spans[0].spans] == ["send"]


@pytest.mark.parametrize(
    ("name", "kind", "attributes", "kept"),
    [
        ("intents process", SpanKind.CONSUMER, {"messaging.system": "kafka"}, True),
        ("wagate.delivery.v1 send", SpanKind.PRODUCER, {}, True),
        ("POST /webhook", SpanKind.SERVER, {"url.path": "/webhook"}, True),
        ("GET /metrics", SpanKind.SERVER, {"url.path": "/metrics"}, False),
        ("GET", SpanKind.SERVER, {"http.target": "/readyz"}, False),
        ("GET", SpanKind.SERVER, {"http.target": "/healthz"}, False),
        ("SELECT", SpanKind.CLIENT, {"db.system": "postgresql"}, False),
        ("SELECT", SpanKind.CLIENT, {"db.system.name": "postgresql"}, False),
        ("wagate-policy-caps-changelog send", SpanKind.PRODUCER, {}, False),
    ],
)
def test_a_new_trace_is_kept_unless_it_would_say_nothing(
    name: str, kind: SpanKind, attributes: dict[str, str], kept: bool
) -> None:
    result = telemetry.KeptRoots(1.0).should_sample(None, 1 << 64, name, kind, attributes)
    assert (result.decision is Decision.RECORD_AND_SAMPLE) is kept


def test_the_share_of_new_traces_kept_follows_the_ratio_and_children_their_parent() -> None:
    sampler = ParentBased(telemetry.KeptRoots(0.25))
    ids = range(0, 1 << 64, (1 << 64) // 1000)
    kept = sum(sampler.should_sample(None, i, "x").decision.is_sampled() for i in ids)
    assert 200 <= kept <= 300
    provider = TracerProvider(sampler=sampler)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    own = provider.get_tracer("tests")
    for _ in range(40):
        with (
            own.start_as_current_span("root") as root,
            own.start_as_current_span("SELECT", attributes={"db.system": "postgresql"}),
        ):
            assert root.is_recording() is trace.get_current_span().is_recording()
    names = [s.name for s in exporter.get_finished_spans()]
    assert names and names.count("SELECT") == names.count("root")  # a query inside a trace stays


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        (b"106540352242922:16505551234", "106540352242922:16***34"),
        ("106540352242922:16505551234", "106540352242922:16***34"),
        (b"100000000000001:tmpl-42", "100000000000001:tmpl-42"),
        (b"16505551234", "16***34"),
    ],
)
async def test_a_record_key_is_kept_out_of_traces_in_clear(
    spans: InMemorySpanExporter, key: bytes | str, shown: str
) -> None:
    with tracer.start_as_current_span("t send") as span:
        span.set_attribute("messaging.kafka.message.key", str(key))
        await telemetry.mask_key(span, ("t", b"value", key), {})
    [sent] = spans.get_finished_spans()
    assert sent.attributes == {"messaging.kafka.message.key": shown}


async def test_a_key_given_by_name_is_masked_too(spans: InMemorySpanExporter) -> None:
    with tracer.start_as_current_span("t send") as span:
        await telemetry.mask_key(span, ("t",), {"key": b"1065:16505551234"})
        await telemetry.mask_key(
            trace.NonRecordingSpan(span.get_span_context()), ("t",), {"key": None}
        )
    assert spans.get_finished_spans()[0].attributes == {
        "messaging.kafka.message.key": "1065:16***34"
    }


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "/webhook?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=42",
            "/webhook?hub.mode=*&hub.verify_token=*&hub.challenge=*",
        ),
        ("https://graph.example/v26.0/1065/messages", "https://graph.example/v26.0/1065/messages"),
        ("http://h/p?token=a=b#frag", "http://h/p?token=*"),
        ("http://h/p?flag&&x=", "http://h/p?flag=*&x=*"),
        ("http://h/p?", "http://h/p?"),
    ],
)
def test_a_query_keeps_its_names_and_hides_its_values(url: str, shown: str) -> None:
    assert telemetry.hide_query_values(url) == shown


async def test_no_span_shows_a_query_value_of_a_request_made_or_served(tmp_path: Path) -> None:
    provider = telemetry.tracer_provider(TracingSettings(file=str(tmp_path / "s.jsonl")), "x")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        telemetry.instrument(provider)

        async def handshake(request: web.Request) -> web.Response:
            return web.Response(text=request.query["hub.challenge"])

        app = web.Application()
        app.router.add_get("/webhook", handshake)
        async with TestServer(app) as server, aiohttp.ClientSession() as session:
            url = server.make_url("/webhook?hub.verify_token=s3cret&hub.challenge=ch-7731")
            async with session.get(url) as resp:
                assert await resp.text() == "ch-7731"  # the handler still reads the real query
    finally:
        telemetry.uninstrument()
        provider.shutdown()
    finished = exporter.get_finished_spans()
    assert {s.kind for s in finished} == {SpanKind.SERVER, SpanKind.CLIENT}
    shown = json.dumps([dict(s.attributes or {}) for s in finished])
    assert "s3cret" not in shown and "ch-7731" not in shown
    assert "hub.verify_token=*" in shown
