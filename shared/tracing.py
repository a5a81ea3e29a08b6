"""Trace context across wagate's hops (OpenTelemetry's API only): the span a consumed record is
handled in, a child of the context in its Kafka headers; and the context kept inside a stored JSON
body, for the hop that brings none (Meta's status webhook), continued from there. Installing a
tracer is `telemetry.py`'s; without one every span here is a no-op."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Link, Span, SpanKind

HeaderValue = bytes | str | None
Headers = Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]] | None
TRACE_KEY = "trace_context"
"""Where `stamp` keeps the trace context inside a JSON body (event models ignore it)."""
_tracer = trace.get_tracer("wagate")
_OFF = (trace.ProxyTracerProvider, trace.NoOpTracerProvider)


@contextmanager
def processing(
    topic: str, partition: int, offset: int, headers: Headers, group: str | None = None
) -> Iterator[Span]:
    """The span a consumed record is handled in: a child of the context its producer put in
    its headers, else the root of a new trace (never of whatever span happens to be current)."""
    if not installed():
        yield trace.INVALID_SPAN
        return
    parent = propagate.extract(headers or [], context=Context(), getter=HEADERS)
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.destination.partition.id": str(partition),
        "messaging.kafka.offset": offset,
    }
    if group:
        attributes["messaging.consumer.group.name"] = group
    with _tracer.start_as_current_span(
        f"{topic} process", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


def stamp(body: str) -> str:
    """`body` (an event's JSON object) with the current trace context kept inside it, for the
    hop that later continues this trace from a stored copy; unchanged when nothing is traced."""
    if not trace.get_current_span().is_recording() or not body.startswith("{"):
        return body
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    rest = body[1:]
    comma = "" if rest.lstrip().startswith("}") else ","
    return f'{{"{TRACE_KEY}":{json.dumps(carrier)}{comma}{rest}'


@contextmanager
def resumed(body: str | None, name: str, **attributes: str) -> Iterator[Span]:
    """A span continuing the trace `stamp` kept in `body`, linked to the span current now (a
    status webhook's own trace, say); with none kept, the root of a new trace."""
    if not installed():
        yield trace.INVALID_SPAN
        return
    parent = Context()
    if body and TRACE_KEY in body:
        try:
            kept = json.loads(body).get(TRACE_KEY)
        except (ValueError, AttributeError):
            kept = None
        if isinstance(kept, dict):
            parent = propagate.extract(kept, context=Context())
    current = trace.get_current_span().get_span_context()
    links = [Link(current)] if current.is_valid else []
    with _tracer.start_as_current_span(
        name, context=parent, links=links, attributes=attributes
    ) as span:
        yield span


@contextmanager
def together(spans: Sequence[Span], name: str) -> Iterator[Span]:
    """Work done once for several records (one statement for a batch): in the record's own
    span when there is one record, else in a span of its own, linked to each record's span,
    so that every record's trace leads to it."""
    if len(spans) == 1:
        with trace.use_span(spans[0], end_on_exit=False) as span:
            yield span
        return
    if not installed():
        yield trace.INVALID_SPAN
        return
    links = [Link(s.get_span_context()) for s in spans if s.get_span_context().is_valid]
    with _tracer.start_as_current_span(name, context=Context(), links=links) as span:
        yield span


def installed() -> bool:
    """Whether a tracer provider is installed (`telemetry.setup`); without one the helpers
    here cost next to nothing."""
    return not isinstance(trace.get_tracer_provider(), _OFF)


def untraced() -> contextvars.Context:
    """A copy of the current context without its span: for a long-lived task started while one
    record is handled, so that the task's later work does not join that record's trace."""
    copy = contextvars.copy_context()
    copy.run(otel_context.attach, Context())
    return copy


class _HeaderGetter(Getter[Headers]):
    """Kafka headers as aiokafka (name, bytes) pairs or faust's mapping."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        values = [_text(v) for k, v in _pairs(carrier) if k.lower() == key and v is not None]
        return values or None

    def keys(self, carrier: Headers) -> list[str]:
        return [k for k, _ in _pairs(carrier)]


HEADERS = _HeaderGetter()


def _pairs(carrier: Headers) -> Iterable[tuple[str, HeaderValue]]:
    if carrier is None:
        return []
    return carrier.items() if isinstance(carrier, Mapping) else carrier


def _text(value: bytes | str) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value
