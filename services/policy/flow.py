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
outcome is faust's in every case."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from faust.transport.drivers.aiokafka import Consumer, Transport
from mode.services import WaitResults
from mode.utils.queues import FlowControlEvent


class HeldFlow(FlowControlEvent):
    def resume(self) -> None:
        if self.is_active():  # never suspended: the buffers hold records of flowing partitions
            return
        super().resume()


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
