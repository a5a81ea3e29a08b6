"""The flow control of policy's streams: faust's, except that a resume clears the streams'
buffers only when the flow had been suspended.

faust suspends the flow when partitions are revoked and resumes it once the new assignment's
tables are recovered and its partitions sought back to their committed offsets; the resume
clears every stream's buffer, since what it held was fetched before that seek. But faust's
recovery also resumes a flow that was never suspended (once more after the actives are
recovered, and again when it resumes the standby partitions, while the streams already run):
that clear threw away records fetched from the partitions now flowing, past which the
consumer's position had already moved, so nothing read them again until the next rebalance.
A worker restarted on a backlog stopped deciding (`services/policy/stall.py` was the remedy;
it stays, as a watch). Here a resume of a flowing stream is a no-op.

faust also hands its consumer thread the very set of active partitions it goes on changing:
while the tables recover it pauses the inputs, emptying the set, and an empty set reads to the
Kafka client as every partition, so the paused partitions' records were fetched and then
dropped as paused, their position past them. `SnapshotFetch` hands over a copy, taken when
faust has just checked that the set is not empty.

And faust hands each fetched record to its streams (or to the tables' recovery) by racing the
hand-over against a suspension of the flow: four tasks and an `asyncio.wait` per record, more
than half of the event loop's time while a million windows recover. Nearly every hand-over
finishes without waiting (the record is decoded and put in a queue with room), so
`SnapshotFetch` runs it at once and races only one that has to wait, from where it waits; the
outcome is faust's in every case.

faust's pause of a partition only keeps its records from the streams: the Kafka client goes on
fetching it. After recovery that is every changelog partition (about a hundred here), so each
fetch asked for and decoded twice the partitions the worker reads, in pure Python, and at a
steady rate records come a few per fetch: most of the worker's time went there. `OnlyActive`
pauses in the client the assigned partitions faust does not read, at each fetch the set
changed since the last, and resumes them when faust does; a pause keeps the partition's
position, so what was fetched and not handed over is fetched again on resume.

For the same reason it gathers: at a steady rate a fetch answered as soon as one record is
there brings a few records for the cost of every partition. While records come faster than one
per `POLICY_FETCH_GATHER_MS` (25 ms), the broker may hold each fetch that long to gather more;
slower, each is answered at once, as faust asks. At 200 intents a second this halved the
worker's CPU per decision, for at most that much more time per record."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from time import monotonic
from typing import Any

from aiokafka import TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer, Transport
from mode.services import WaitResults
from mode.utils.queues import FlowControlEvent

GATHER_BYTES = 1 << 20  # what a gathering fetch waits for, at most `fetch_gather_ms`
PACE_S = 0.5  # how often at least the pace of records is looked at


class HeldFlow(FlowControlEvent):
    def resume(self) -> None:
        if self.is_active():  # never suspended: the buffers hold records of flowing partitions
            return
        super().resume()


class OnlyActive(AIOKafkaConsumerThread):
    """faust's consumer thread, whose Kafka client fetches only the partitions faust reads,
    and gathers each fetch for up to the app's `fetch_gather_ms` while records come faster
    than one in that time (slower, a fetch is answered as soon as a record is there, as by
    default)."""

    _fetching: tuple[frozenset[Any], frozenset[Any]] | None = None  # (assigned, read) last set
    _gathering = False
    _counted = 0  # records handed over since `_since`
    _since = 0.0
    _answer_ms = 0  # the fetch's wait when not gathering, as faust set it

    async def _fetch_records(
        self,
        consumer: Any,
        active_partitions: set[Any],
        timeout: float | None = None,  # noqa: ASYNC109 (faust's signature)
        max_records: int | None = None,
    ) -> Any:
        if active_partitions:  # an empty set reads to the client as every partition
            self._fetch_only(consumer, active_partitions)
        records = await super()._fetch_records(
            consumer, active_partitions, timeout=timeout, max_records=max_records
        )
        self._pace(consumer, sum(map(len, records.values())) if records else 0)
        return records

    def _fetch_only(self, consumer: Any, active: set[Any]) -> None:
        assigned = frozenset(consumer.assignment())
        last = self._fetching
        if last is not None and last[0] == assigned and last[1] == active:
            return
        read = frozenset(TopicPartition(tp.topic, tp.partition) for tp in active)
        paused = consumer.paused()
        pause = assigned - read - paused
        resume = paused & read
        if pause:
            consumer.pause(*pause)
        if resume:
            consumer.resume(*resume)
        self._fetching = (assigned, read)

    def _pace(self, consumer: Any, count: int) -> None:
        """Every `PACE_S` at least, whether to gather: records came faster than one per
        `fetch_gather_ms`. The fetcher reads both options as it builds each request."""
        gather_ms = getattr(self.app, "fetch_gather_ms", 0)
        fetcher = getattr(consumer, "_fetcher", None)
        if gather_ms <= 0 or fetcher is None:
            return
        now = monotonic()
        self._counted += count
        spent = now - self._since
        if spent < PACE_S:
            return
        gather = self._counted / spent > 1000 / gather_ms
        self._counted, self._since = 0, now
        if gather == self._gathering:
            return
        if gather:
            self._answer_ms = fetcher._fetch_max_wait_ms
        self._gathering = gather
        fetcher._fetch_min_bytes = GATHER_BYTES if gather else 1
        fetcher._fetch_max_wait_ms = gather_ms if gather else self._answer_ms


class SnapshotFetch(Consumer):
    async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:  # noqa: ASYNC109 (mode's signature)
        """mode's race of `coros` (faust's drain races a record's hand-over against a flow
        suspension), except that a first coroutine that finishes without waiting wins at
        once and the others are never started; one that waits is raced from where it waits."""
        first, *rest = coros
        settled = self._stopped.is_set() or self._crashed.is_set()
        if timeout is not None or settled or not asyncio.iscoroutine(first):
            return await super().wait_first(*coros, timeout=timeout)
        try:
            waiting = first.send(None)
        except StopIteration as done:
            _close(rest)
            return WaitResults([first], [done.value], False)
        except BaseException:
            _close(rest)
            raise
        return await super().wait_first(resumed(first, waiting), *rest)

    def _new_consumer_thread(self) -> OnlyActive:
        return OnlyActive(self, loop=self.loop, beacon=self.beacon)

    async def _getmany(self, active_partitions: set[Any] | None, timeout: float) -> Any:  # noqa: ASYNC109 (faust's signature)
        partitions = None if active_partitions is None else set(active_partitions)
        return await super()._getmany(partitions, timeout)


class SnapshotTransport(Transport):
    """faust's Kafka transport, its consumers fetching with `SnapshotFetch`."""

    Consumer = SnapshotFetch


async def resumed(coro: Coroutine[Any, Any, Any], waiting: Any) -> Any:
    """The rest of `coro`, stepped once already, from where it waits on `waiting` (a future,
    or None for a bare yield), driven as an asyncio task drives a coroutine: a cancellation
    cancels the future it waits on, and the coroutine meets the cancellation there."""
    while True:
        error: BaseException | None = None
        try:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                waiting._asyncio_future_blocking = False
                await asyncio.wait([waiting])  # its result or error is left for `coro`
        except asyncio.CancelledError as cancelled:
            if waiting is None or not waiting.cancel():
                error = cancelled  # nothing left to cancel: thrown in where it waits
        try:
            waiting = coro.send(None) if error is None else coro.throw(error)
        except StopIteration as done:
            return done.value


def _close(coros: list[Any]) -> None:
    """Coroutines made for a race that was won before they ran."""
    for coro in coros:
        if asyncio.iscoroutine(coro):
            coro.close()
