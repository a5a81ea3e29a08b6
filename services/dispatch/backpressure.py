"""Backpressure: a partition whose intents wait unsent beyond a high-water mark is paused
(the consumer stops fetching it) and resumed once its backlog drains to the low-water mark."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Protocol

from aiokafka import ConsumerRebalanceListener
from prometheus_client import Gauge


class Pausable(Protocol):
    def pause(self, *partitions: object) -> None: ...
    def resume(self, *partitions: object) -> None: ...
    def assignment(self) -> set[object]: ...


class Backpressure:
    def __init__(self, consumer: Pausable, high: int, low: int, gauge: Gauge) -> None:
        self._consumer = consumer
        self._high = high
        self._low = min(low, high)
        self._backlog: Counter[Hashable] = Counter()
        self._paused: set[Hashable] = set()
        self._gauge = gauge

    def backlog(self, source: Hashable) -> int:
        return self._backlog[source]

    @property
    def paused(self) -> frozenset[Hashable]:
        return frozenset(self._paused)

    def admitted(self, source: Hashable | None) -> None:
        if source is None:
            return
        self._backlog[source] += 1
        if self._backlog[source] >= self._high and source not in self._paused:
            if source in self._consumer.assignment():
                self._consumer.pause(source)
            self._paused.add(source)
            self._gauge.set(len(self._paused))

    def released(self, source: Hashable | None) -> None:
        if source is None or self._backlog[source] <= 0:
            return
        self._backlog[source] -= 1
        if self._backlog[source] <= self._low and source in self._paused:
            self._paused.discard(source)
            if source in self._consumer.assignment():
                self._consumer.resume(source)
            self._gauge.set(len(self._paused))

    def reassigned(self, assigned: set[Hashable]) -> None:
        """After a rebalance the consumer fetches every partition it was given: pause again
        those whose backlog is still over the mark, forget the ones it lost."""
        self._paused &= assigned
        again = [p for p in self._paused if self._backlog[p] > self._low]
        self._paused = set(again)
        if again:
            self._consumer.pause(*again)
        self._gauge.set(len(self._paused))


class RebalanceListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Keeps backpressure true across rebalances."""

    def __init__(self, backpressure: Backpressure) -> None:
        self._backpressure = backpressure

    async def on_partitions_revoked(self, revoked: object) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[Hashable]) -> None:
        self._backpressure.reassigned(set(assigned))
