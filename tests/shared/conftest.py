"""Spans recorded in memory: one SDK tracer provider for the whole session (OpenTelemetry sets
its global provider only once) that samples only while a test holds the `spans` fixture, so
every other test runs as with tracing off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult

from shared.telemetry import KeptRoots


class _Switch(Sampler, SpanProcessor):
    """wagate's sampler while a test records, nothing otherwise; hands ended spans to the
    recording test's exporter."""

    def __init__(self) -> None:
        self.exporter: InMemorySpanExporter | None = None
        self._sampler = ParentBased(KeptRoots(1.0))

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        if self.exporter is None:
            return SamplingResult(Decision.DROP)
        return self._sampler.should_sample(*args, **kwargs)

    def get_description(self) -> str:
        return "tests"

    def on_end(self, span: ReadableSpan) -> None:
        if self.exporter is not None:
            self.exporter.export([span])


_SWITCH = _Switch()


def session_provider() -> TracerProvider:
    """The session's global provider (made on first use)."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(sampler=_SWITCH)
    provider.add_span_processor(_SWITCH)
    trace.set_tracer_provider(provider)
    return provider


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span the test ends, in the order they ended."""
    session_provider()
    exporter = InMemorySpanExporter()
    _SWITCH.exporter = exporter
    try:
        yield exporter
    finally:
        _SWITCH.exporter = None
