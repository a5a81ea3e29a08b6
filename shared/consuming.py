"""The consume loop: reads records, hands each decoded event to its handler (or a partition's
records together to a batch handler), commits after the side effects, retries by seeking back
and dead-letters with reason headers; each record is handled inside a span continuing the
trace context its headers carry."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeGuard, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry import trace
from opentelemetry.trace import Span, StatusCode

from shared import codec, logs, tracing
from shared.errors import WagateError
from shared.events.envelope import Event
from shared.metrics import ConsumerMetrics
from shared.topics import TopicSpec

E = TypeVar("E", bound=Event)
log = logs.get(__name__)


class DeadLetters(Protocol):
    """Where a record that can never be handled goes (`messaging.Publisher`)."""

    async def dead_letter(
        self, record: ConsumerRecord[bytes, bytes], group: str, reason: str
    ) -> None: ...


Handler = Callable[[E, ConsumerRecord[bytes, bytes]], Awaitable[None]]


@dataclass(frozen=True)
class Fed(Generic[E]):
    """A decoded record handed to a batch handler, with the span it is handled in (current
    only inside `traced()`: the records of a batch are handled side by side)."""

    event: E
    record: ConsumerRecord[bytes, bytes]
    span: Span = trace.INVALID_SPAN

    def traced(self) -> AbstractContextManager[Span]:
        return trace.use_span(self.span, end_on_exit=False)


BatchHandler = Callable[[Sequence[Fed[E]]], Awaitable[Sequence[BaseException | None]]]
"""Handles a partition's records together: for each, in order, None once its work is durable
(or handed on) or the error it met. The loop commits up to the first retryable error, seeks
back to it, and dead-letters what met a permanent one, as for records one at a time."""


def retried(error: BaseException | None) -> TypeGuard[Exception]:
    """Whether the consume loop reads a record that met `error` again (and none after it):
    a retryable error, or Kafka or the network failing; a permanent one is dead-lettered."""
    if isinstance(error, WagateError):
        return error.retryable
    return isinstance(error, (KafkaError, OSError))


async def alone(handler: Handler[E], item: Fed[E]) -> BaseException | None:
    """One record of a batch through the one-at-a-time handler, in its span: the error it met
    that the loop settles (None: handled); any other error is raised."""
    with item.traced():
        try:
            await handler(item.event, item.record)
        except (WagateError, KafkaError, OSError) as exc:
            return exc
    return None


@dataclass(frozen=True)
class Subscription(Generic[E]):
    spec: TopicSpec
    model: type[E]
    handler: Handler[E]
    batch: BatchHandler[E] | None = None  # opt in: a partition's fetched records together


@dataclass
class ConsumeLoop:
    """Reads records, hands each decoded event to its handler, commits after the side effects.

    Undecodable records and permanent failures are dead-lettered and committed; retryable
    failures rewind the partition to the failed record and back off, without committing.

    With `side_by_side` the partitions of one fetch are handled together, each in its order,
    and what they settled is committed in one request once all are done: for handlers that
    wait on I/O and are safe to run at once for different partitions (dispatch's), so that a
    slow partition no longer holds the others up.
    """

    consumer: AIOKafkaConsumer
    group: str
    subscriptions: dict[str, Subscription[Any]]
    publisher: DeadLetters
    metrics: ConsumerMetrics
    max_backoff_s: float = 30.0
    side_by_side: bool = False
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _backoff_s: float = 0.0
    _settled: dict[TopicPartition, int] | None = None  # the offsets to commit after a fetch

    def stop(self) -> None:
        self._stopping.set()

    async def run_until(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then finish the record in flight and commit."""
        consuming = asyncio.create_task(self.run())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({consuming, stopping}, return_when=asyncio.FIRST_COMPLETED)
        self.stop()
        stopping.cancel()
        await consuming  # re-raises a crash of the loop

    async def run(self) -> None:
        while not self._stopping.is_set():
            batches = await self.consumer.getmany(timeout_ms=200)
            if self.side_by_side and len(batches) > 1:
                await self._side_by_side(batches)
                continue
            for tp, records in batches.items():
                await self._handle_partition(tp, records)
                if self._stopping.is_set():
                    break

    async def _handle_partition(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        if self.subscriptions[tp.topic].batch is not None:
            await self._handle_batch(tp, records)
            return
        next_offset: int | None = None
        for record in records:
            ok = await self._handle_one(record)
            if not ok:
                self.consumer.seek(tp, record.offset)
                break
            next_offset = record.offset + 1
            if self._stopping.is_set():
                break
        if next_offset is not None:
            await self._commit(tp, next_offset)

    async def _side_by_side(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        """Every partition of the fetch at once; then one commit of what each settled (a
        partition's crash is raised after the others are done and committed)."""
        self._settled = {}
        try:
            handled = await asyncio.gather(
                *(self._handle_partition(tp, records) for tp, records in batches.items()),
                return_exceptions=True,
            )
        finally:
            settled, self._settled = self._settled, None
        if settled:
            await self._commit_all(settled)
        for outcome in handled:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _commit(self, tp: TopicPartition, offset: int) -> None:
        if self._settled is not None:  # handled side by side: committed with the others
            self._settled[tp] = offset
            return
        await self._commit_all({tp: offset})

    async def _commit_all(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit; one refused (a rebalance while the process was frozen, the broker gone)
        leaves the records to be read again, which every handler takes as a repeat."""
        try:
            await self.consumer.commit(offsets)
        except KafkaError as exc:
            log.warning("commit refused; the records will be read again",
                        offsets={f"{tp.topic}/{tp.partition}": n for tp, n in offsets.items()},
                        reason=repr(exc))  # fmt: skip

    async def _handle_one(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        where = (record.topic, record.partition, record.offset)
        with tracing.processing(*where, record.headers, self.group) as span:
            return await self._handle_traced(record, span)

    async def _handle_traced(self, record: ConsumerRecord[bytes, bytes], span: Span) -> bool:
        sub = self.subscriptions[record.topic]
        try:
            event = codec.decode(sub.model, record.value)
            with self.metrics.handle_seconds.labels(sub.spec.name).time():
                await sub.handler(event, record)
        except (WagateError, KafkaError, OSError) as exc:
            return await self._settle(record, span, exc)
        return await self._settle(record, span, None)

    async def _handle_batch(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        """The partition's records to its batch handler together, each in its own span; then,
        in offset order, each settled as one handled alone would be, and the offset after the
        last record settled before the first retryable failure committed."""
        sub = self.subscriptions[tp.topic]
        with ExitStack() as spans:
            opened = [self._span(spans, record) for record in records]
            errors: dict[int, BaseException | None] = {}
            fed: list[Fed[Any]] = []
            for record, span in zip(records, opened, strict=True):
                try:
                    fed.append(Fed(codec.decode(sub.model, record.value), record, span))
                except WagateError as exc:
                    errors[record.offset] = exc
            outcomes = await self._batch(sub, fed)
            errors |= zip([item.record.offset for item in fed], outcomes, strict=True)
            next_offset: int | None = None
            for record, span in zip(records, opened, strict=True):
                if not await self._settle(record, span, errors[record.offset]):
                    self.consumer.seek(tp, record.offset)
                    break
                next_offset = record.offset + 1
        if next_offset is not None:
            await self._commit(tp, next_offset)

    def _span(self, spans: ExitStack, record: ConsumerRecord[bytes, bytes]) -> Span:
        """The record's span, open until `spans` closes, current in a context of its own (the
        batch's records are handled side by side: `Fed.traced` makes one current)."""
        where = (record.topic, record.partition, record.offset)
        own = contextvars.copy_context()
        opened = tracing.processing(*where, record.headers, self.group)
        span = own.run(opened.__enter__)
        spans.callback(own.run, opened.__exit__, None, None, None)
        return span

    async def _batch(
        self, sub: Subscription[Any], fed: list[Fed[Any]]
    ) -> list[BaseException | None]:
        """The batch handler's outcomes; when it raised for the whole batch, a retryable error
        stands for every record, anything else has the records handled one at a time."""
        assert sub.batch is not None
        if not fed:
            return []
        try:
            with self.metrics.handle_seconds.labels(sub.spec.name).time():
                return list(await sub.batch(fed))
        except (WagateError, KafkaError, OSError) as exc:
            if retried(exc):
                return [exc] * len(fed)
        return [await alone(sub.handler, item) for item in fed]

    async def _settle(
        self, record: ConsumerRecord[bytes, bytes], span: Span, error: BaseException | None
    ) -> bool:
        """Count a record handled, dead-letter one that met a permanent error, or back off on a
        retryable one (False: it is read again); any other error is a bug and is raised."""
        name = self.subscriptions[record.topic].spec.name
        bound = log.bind(topic=record.topic, partition=record.partition, offset=record.offset)
        if isinstance(error, WagateError) and not error.retryable:
            span.set_status(StatusCode.ERROR, f"dead-lettered: {type(error).__name__}")
            bound.warning("dead-lettered", reason=str(error), error=type(error).__name__)
            self.metrics.dead_lettered.labels(name, type(error).__name__).inc()
            await self.publisher.dead_letter(record, self.group, f"{type(error).__name__}: {error}")
        elif retried(error):
            return await self._back_off(name, bound, error)
        elif error is not None:
            raise error
        self._backoff_s = 0.0
        self.metrics.processed.labels(name).inc()
        return True

    async def _back_off(self, topic: str, bound: Any, exc: Exception) -> bool:
        """A retryable failure: wait longer each time, and leave the record to be read again."""
        self._backoff_s = min(self.max_backoff_s, max(0.2, self._backoff_s * 2))
        bound.warning("retrying", reason=str(exc), backoff_s=self._backoff_s)
        self.metrics.retried.labels(topic).inc()
        await asyncio.sleep(self._backoff_s)
        return False
