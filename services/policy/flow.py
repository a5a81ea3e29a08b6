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
it stays, as a watch). Here a resume of a flowing stream is a no-op."""

from __future__ import annotations

from mode.utils.queues import FlowControlEvent


class HeldFlow(FlowControlEvent):
    def resume(self) -> None:
        if self.is_active():  # never suspended: the buffers hold records of flowing partitions
            return
        super().resume()
