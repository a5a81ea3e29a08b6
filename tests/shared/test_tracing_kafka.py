"""Trace context over a real broker: with the instrumentation installed, what `Publisher`
produces carries the current context in its headers, and the consume loop handles it inside a
child of the producer's span, so a chain of hops is one trace."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared import telemetry
from shared.events.delivery import DeliveryUpdated
from shared.messaging import ConsumeLoop, Publisher, Subscription, make_consumer, make_producer
from shared.metrics import ConsumerMetrics, new_registry
from shared.settings import KafkaSettings
from shared.topics import DELIVERY
from tests.shared.conftest import session_provider

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(90)]
KEY = "106540352242922:16505551234"


@pytest.fixture
def instrumented(spans: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    try:
        telemetry.instrument(session_provider())
        yield spans
    finally:
        telemetry.uninstrument()


@dataclass(frozen=True)
class Wired:
    topic: str
    publisher: Publisher
    consumer: AIOKafkaConsumer


@pytest.fixture
async def wired(kafka_settings: KafkaSettings) -> AsyncIterator[Wired]:
    """A publisher and a group consumer of the delivery topic, both started."""
    topic = kafka_settings.topic(DELIVERY.name)
    producer = make_producer(kafka_settings, "test")
    await producer.start()
    consumer = make_consumer(kafka_settings, f"test-{uuid.uuid4().hex[:8]}", [topic])
    await consumer.start()
    try:
        yield Wired(topic, Publisher(producer, kafka_settings), consumer)
    finally:
        await consumer.stop()
        await producer.stop()


def _update(intent_id: str) -> DeliveryUpdated:
    return DeliveryUpdated(intent_id=intent_id, phone_number_id="1", to="2", state="sent")


def _traceparent(record: ConsumerRecord[Any, Any]) -> tuple[int, int]:
    [value] = [v for k, v in record.headers if k == "traceparent"]
    _, trace_id, span_id, _ = value.decode().split("-")
    return int(trace_id, 16), int(span_id, 16)


async def test_one_trace_from_a_publish_through_the_loop_and_the_handlers_own_publish(
    wired: Wired, instrumented: InMemorySpanExporter
) -> None:
    topic, publisher = wired.topic, wired.publisher
    seen: dict[str, ConsumerRecord[Any, Any]] = {}
    done = asyncio.Event()

    async def handler(event: DeliveryUpdated, record: ConsumerRecord[Any, Any]) -> None:
        seen[event.intent_id] = record
        if event.intent_id == "first":
            await publisher.publish_many([(DELIVERY, _update("second"), KEY)])
        else:
            done.set()

    loop = ConsumeLoop(
        wired.consumer,
        "g",
        {topic: Subscription(DELIVERY, DeliveryUpdated, handler)},
        publisher,
        ConsumerMetrics.create(new_registry(), "test"),
    )
    with trace.get_tracer("tests").start_as_current_span("business") as business:
        await publisher.publish(DELIVERY, _update("first"), KEY, [("wagate-x", b"1")])
    await asyncio.wait_for(loop.run_until(done), 60)

    finished = instrumented.get_finished_spans()
    sends = [s for s in finished if s.name == f"{topic} send"]
    handled = [s for s in finished if s.name == f"{topic} process"]
    assert len(sends) == 2 and len(handled) == 2

    def parent(span: ReadableSpan) -> int | None:
        return span.parent.span_id if span.parent else None

    trace_id = business.get_span_context().trace_id
    assert {s.context.trace_id for s in [*sends, *handled]} == {trace_id}
    assert parent(sends[0]) == business.get_span_context().span_id
    assert _traceparent(seen["first"]) == (trace_id, sends[0].context.span_id)
    assert ("wagate-x", b"1") in seen["first"].headers  # the caller's headers stay
    assert parent(handled[0]) == sends[0].context.span_id
    assert parent(sends[1]) == handled[0].context.span_id
    assert _traceparent(seen["second"]) == (trace_id, sends[1].context.span_id)
    assert parent(handled[1]) == sends[1].context.span_id
    assert all(s.kind is SpanKind.PRODUCER for s in sends)
    assert {s.attributes["messaging.kafka.message.key"] for s in sends} == {  # type: ignore[index]
        "106540352242922:16***34"
    }
    assert not [s for s in finished if "receive" in s.name]  # the loop's span is the only one


async def test_without_the_instrumentation_nothing_is_added_to_the_headers(
    wired: Wired, spans: InMemorySpanExporter
) -> None:
    with trace.get_tracer("tests").start_as_current_span("business"):
        await wired.publisher.publish(DELIVERY, _update("x"), KEY)
    async with asyncio.timeout(30):
        while not (batches := await wired.consumer.getmany(timeout_ms=500)):
            pass
    [record] = [r for rs in batches.values() for r in rs]
    assert not record.headers
