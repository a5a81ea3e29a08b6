"""Trace context across the hops: a record is handled in a child of the span its headers name
(aiokafka pairs or faust's mapping), a stored body keeps the context for a hop that brings none,
and a long-lived task started while handling one record does not join its trace."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest
import structlog
from aiokafka import ConsumerRecord
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from shared import codec, tracing
from shared.consuming import ConsumeLoop, Fed, Subscription
from shared.errors import WagateError
from shared.events.decisions import PolicyDecisionMade
from shared.events.delivery import DeliveryUpdated
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.metrics import ConsumerMetrics, new_registry
from shared.topics import DELIVERY
from tests.shared.test_messaging import TOPIC, TP, Consumer, DeadLetters

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7
TRACEPARENT = f"00-{TRACE_ID:032x}-{SPAN_ID:016x}-01"
tracer = trace.get_tracer("tests")


def _only(spans: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [s for s in spans.get_finished_spans() if s.name == name]
    assert len(found) == 1, [s.name for s in spans.get_finished_spans()]
    return found[0]


def _parent_of(span: ReadableSpan) -> tuple[int, int] | None:
    return (span.context.trace_id, span.parent.span_id) if span.parent else None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([("traceparent", TRACEPARENT.encode())], id="aiokafka-pairs"),
        pytest.param({"traceparent": TRACEPARENT}, id="faust-mapping-of-text"),
        pytest.param({"traceparent": TRACEPARENT.encode()}, id="faust-mapping-of-bytes"),
        pytest.param(
            [("wagate-released", b"1"), ("TraceParent", TRACEPARENT.encode())], id="any-case"
        ),
    ],
)
def test_a_record_is_handled_in_a_child_of_the_span_its_headers_name(
    spans: InMemorySpanExporter, headers: Any
) -> None:
    with tracing.processing("t.intents", 3, 41, headers, "g") as span:
        assert trace.get_current_span() is span
    handled = _only(spans, "t.intents process")
    assert _parent_of(handled) == (TRACE_ID, SPAN_ID)
    assert handled.kind is SpanKind.CONSUMER
    assert handled.attributes == {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": "t.intents",
        "messaging.destination.partition.id": "3",
        "messaging.kafka.offset": 41,
        "messaging.consumer.group.name": "g",
    }


def test_the_trace_state_travels_with_the_parent(spans: InMemorySpanExporter) -> None:
    headers = [("traceparent", TRACEPARENT.encode()), ("tracestate", b"shop=checkout")]
    with tracing.processing("t", 0, 0, headers):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
    assert carrier["tracestate"] == "shop=checkout"
    assert carrier["traceparent"].split("-")[1] == f"{TRACE_ID:032x}"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(None, id="none"),
        pytest.param([], id="empty"),
        pytest.param([("traceparent", b"not-a-traceparent")], id="malformed"),
        pytest.param([("traceparent", None)], id="null-value"),
    ],
)
def test_a_record_without_context_starts_a_trace_of_its_own(
    spans: InMemorySpanExporter, headers: Any
) -> None:
    with tracer.start_as_current_span("unrelated work"), tracing.processing("t", 0, 0, headers):
        pass
    handled = _only(spans, "t process")
    unrelated = _only(spans, "unrelated work")
    assert handled.parent is None
    assert handled.context.trace_id != unrelated.context.trace_id


def _decision() -> PolicyDecisionMade:
    intent = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id="1065", to="16505551234", content=TextContent(body="hi")
    )
    return PolicyDecisionMade(intent=intent, outcome="approved")


def test_a_stamped_body_decodes_as_before_and_resumes_its_trace_linked_to_the_current(
    spans: InMemorySpanExporter,
) -> None:
    decision = _decision()
    with tracer.start_as_current_span("decision"):
        body = tracing.stamp(codec.encode(decision).decode())
    assert codec.decode(PolicyDecisionMade, body.encode()) == decision
    assert tracing.TRACE_KEY in json.loads(body)
    with (
        tracer.start_as_current_span("status webhook"),
        tracing.resumed(body, "status", intent_id="i-1"),
    ):
        pass
    kept, webhook, status = (_only(spans, n) for n in ("decision", "status webhook", "status"))
    assert _parent_of(status) == (kept.context.trace_id, kept.context.span_id)
    assert [link.context.span_id for link in status.links] == [webhook.context.span_id]
    assert status.attributes == {"intent_id": "i-1"}


def test_a_body_stamped_in_a_database_column_keeps_its_context(
    spans: InMemorySpanExporter,
) -> None:
    """jsonb gives the object back with its keys reordered and spaced."""
    with tracer.start_as_current_span("decision"):
        body = tracing.stamp(codec.encode(_decision()).decode())
    stored = json.dumps(dict(sorted(json.loads(body).items())), indent=1)
    with tracing.resumed(stored, "send"):
        pass
    assert _parent_of(_only(spans, "send")) == (
        _only(spans, "decision").context.trace_id,
        _only(spans, "decision").context.span_id,
    )


@pytest.mark.parametrize("body", ["{}", "{ }", '{"a":1}'])
def test_stamping_keeps_any_object_valid_json(spans: InMemorySpanExporter, body: str) -> None:
    with tracer.start_as_current_span("x"):
        stamped = tracing.stamp(body)
    assert set(json.loads(stamped)) == {tracing.TRACE_KEY, *json.loads(body)}


def test_nothing_is_stamped_when_nothing_is_traced() -> None:
    body = codec.encode(_decision()).decode()
    assert tracing.stamp(body) == body
    with tracer.start_as_current_span("not recorded: no test is recording spans"):
        assert tracing.stamp(body) == body


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="no-body"),
        pytest.param('{"intent_id": "i-1"}', id="never-stamped"),
        pytest.param('{"trace_context": "garbled"', id="not-json"),
        pytest.param('["trace_context"]', id="not-an-object"),
        pytest.param('{"trace_context": {"traceparent": "00-zz"}}', id="bad-traceparent"),
    ],
)
def test_a_body_without_a_kept_context_resumes_as_a_new_trace(
    spans: InMemorySpanExporter, body: str | None
) -> None:
    with tracer.start_as_current_span("first decision"), tracing.resumed(body, "send"):
        pass
    send, first = _only(spans, "send"), _only(spans, "first decision")
    assert send.parent is None and send.context.trace_id != first.context.trace_id
    assert [link.context.span_id for link in send.links] == [first.context.span_id]


async def test_a_task_started_untraced_does_not_join_the_trace_it_was_started_in(
    spans: InMemorySpanExporter,
) -> None:
    seen: list[tuple[bool, object]] = []

    async def long_lived() -> None:
        context = trace.get_current_span().get_span_context()
        seen.append((context.is_valid, structlog.contextvars.get_contextvars().get("who")))

    with (
        structlog.contextvars.bound_contextvars(who="dispatch"),
        tracer.start_as_current_span("first decision"),
    ):
        await asyncio.create_task(long_lived(), context=tracing.untraced())
        await asyncio.create_task(long_lived())
    assert seen == [(False, "dispatch"), (True, "dispatch")]


class Poison(WagateError):
    retryable = False


def _record(offset: int, intent_id: str, headers: Any) -> ConsumerRecord[bytes, bytes]:
    update = DeliveryUpdated(intent_id=intent_id, phone_number_id="1", to="2", state="sent")
    value = codec.encode(update)
    return ConsumerRecord(TOPIC, 0, offset, 0, 0, None, value, None, 0, 0, headers)


async def _three_handled(
    spans: InMemorySpanExporter, subscription: Subscription[DeliveryUpdated]
) -> list[ReadableSpan]:
    """A traced record, a poison one and a bare one through the loop: their spans."""
    loop = ConsumeLoop(
        Consumer(),  # type: ignore[arg-type]
        "g",
        {TOPIC: subscription},
        DeadLetters(),  # type: ignore[arg-type]
        ConsumerMetrics.create(new_registry(), "test"),
    )
    traced = [("traceparent", TRACEPARENT.encode())]
    records = [_record(0, "traced", traced), _record(1, "poison", []), _record(2, "bare", [])]
    await loop._handle_partition(TP, records)
    return [s for s in spans.get_finished_spans() if s.name == f"{TOPIC} process"]


async def test_the_consume_loop_handles_each_record_inside_its_producers_trace(
    spans: InMemorySpanExporter,
) -> None:
    inside: dict[str, int] = {}

    async def handler(event: DeliveryUpdated, _: Any) -> None:
        inside[event.intent_id] = trace.get_current_span().get_span_context().trace_id
        if event.intent_id == "poison":
            raise Poison("never")

    handled = await _three_handled(spans, Subscription(DELIVERY, DeliveryUpdated, handler))
    assert [s.attributes["messaging.kafka.offset"] for s in handled] == [0, 1, 2]  # type: ignore[index]
    assert _parent_of(handled[0]) == (TRACE_ID, SPAN_ID)
    assert handled[2].parent is None
    assert inside == {s: h.context.trace_id for s, h in zip(inside, handled, strict=True)}
    assert inside["traced"] == TRACE_ID
    assert handled[1].status.status_code is StatusCode.ERROR
    assert handled[0].status.status_code is StatusCode.UNSET


async def test_each_record_of_a_batch_is_handled_inside_its_own_producers_trace(
    spans: InMemorySpanExporter,
) -> None:
    inside: dict[str, int] = {}

    async def handler(event: DeliveryUpdated, _: Any) -> None:
        raise AssertionError("the batch handler handles them")

    async def batch(items: Sequence[Fed[DeliveryUpdated]]) -> list[BaseException | None]:
        assert not trace.get_current_span().is_recording()  # none of them is current here
        for item in items:
            with item.traced():
                inside[item.event.intent_id] = trace.get_current_span().get_span_context().trace_id
        return [Poison("never") if i.event.intent_id == "poison" else None for i in items]

    subscription = Subscription(DELIVERY, DeliveryUpdated, handler, batch)
    handled = await _three_handled(spans, subscription)
    assert sorted(s.attributes["messaging.kafka.offset"] for s in handled) == [0, 1, 2]  # type: ignore[index]
    by_offset = {s.attributes["messaging.kafka.offset"]: s for s in handled}  # type: ignore[index]
    assert _parent_of(by_offset[0]) == (TRACE_ID, SPAN_ID)
    assert by_offset[1].parent is None and by_offset[2].parent is None
    assert inside == {"traced": TRACE_ID, "poison": by_offset[1].context.trace_id,
                      "bare": by_offset[2].context.trace_id}  # fmt: skip
    assert len(set(inside.values())) == 3
    assert by_offset[1].status.status_code is StatusCode.ERROR
    assert by_offset[0].status.status_code is StatusCode.UNSET


def test_work_done_for_several_records_is_linked_to_each_and_for_one_is_its_own(
    spans: InMemorySpanExporter,
) -> None:
    with tracer.start_as_current_span("a") as a, tracer.start_as_current_span("b") as b:
        pass
    with tracing.together([a], "claim"), tracer.start_as_current_span("alone"):
        pass
    with tracing.together([a, b], "claim"), tracer.start_as_current_span("inside"):
        pass
    assert _parent_of(_only(spans, "alone")) == (a.get_span_context().trace_id,
                                                 a.get_span_context().span_id)  # fmt: skip
    claim = _only(spans, "claim")
    assert claim.parent is None
    assert {link.context.span_id for link in claim.links} == {
        a.get_span_context().span_id,
        b.get_span_context().span_id,
    }
    assert _only(spans, "inside").parent.span_id == claim.context.span_id  # type: ignore[union-attr]
