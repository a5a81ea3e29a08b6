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
faust has just checked that the set is not empty."""

from __future__ import annotations

from typing import Any

from faust.transport.drivers.aiokafka import Consumer, Transport
from mode.utils.queues import FlowControlEvent


class HeldFlow(FlowControlEvent):
    def resume(self) -> None:
        if self.is_active():  # never suspended: the buffers hold records of flowing partitions
            return
        super().resume()


class SnapshotFetch(Consumer):
    async def _getmany(self, active_partitions: set[Any] | None, timeout: float) -> Any:  # noqa: ASYNC109 (faust's signature)
        partitions = None if active_partitions is None else set(active_partitions)
        return await super()._getmany(partitions, timeout)


class SnapshotTransport(Transport):
    """faust's Kafka transport, its consumers fetching with `SnapshotFetch`."""

    Consumer = SnapshotFetch
