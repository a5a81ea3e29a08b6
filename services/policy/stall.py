"""A watch over policy's own input: a partition whose records wait past its committed offset
while that offset does not move for `stall_s` is stalled, and the worker seeks every partition
back to its committed offset, so the records it fetched and never handed to an agent are read
again (the handlers take repeats).

Its first cause, faust's recovery clearing the streams' buffers while they ran, is fixed in
`services/policy/flow.py`; the watch stays as a guard for any other way fetched records are
given up while the broker-side position has moved past them: without a seek back, those
records are not read again until the next rebalance. One such way was seen: while the tables
recover, the input partitions are paused, and a fetch asked for the active partitions of a set
faust empties meanwhile on another thread, which the client reads as every partition; the
records of the paused ones were then dropped (a worker on a million windows never decided the
one intent that waited); `flow.SnapshotFetch` now hands the fetch a copy."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared import logs

log = logs.get(__name__)


@dataclass
class StallWatch:
    stall_s: float
    clock: Callable[[], float] = time.monotonic
    _since: dict[Any, tuple[int, float]] = field(default_factory=dict)  # tp -> (offset, since)

    def stalled(self, waiting: dict[Any, tuple[int, int]]) -> list[Any]:
        """The partitions stalled now, given each partition's (committed, end) offsets."""
        now = self.clock()
        stalled = []
        for tp, (committed, end) in waiting.items():
            if committed >= end:
                self._since.pop(tp, None)
                continue
            offset, since = self._since.get(tp, (committed, now))
            if offset != committed:
                offset, since = committed, now
            self._since[tp] = (offset, since)
            if now - since >= self.stall_s:
                stalled.append(tp)
        for tp in set(self._since) - set(waiting):
            del self._since[tp]
        return stalled

    def restarted(self) -> None:
        """After a seek back, each partition gets a full `stall_s` again."""
        self._since.clear()


def waiting_offsets(app: Any, is_changelog: Callable[[Any], bool]) -> dict[Any, tuple[int, int]]:
    """Each assigned input partition's committed offset and log end, as the worker knows them;
    none while the worker rebalances or recovers its tables (its streams are paused then)."""
    consumer = app.consumer
    if app.rebalancing or app.in_recovery or not consumer.flow_active:
        return {}
    committed = consumer._committed_offset  # faust's own, per partition: None until a commit
    waiting = {}
    for tp in consumer.assignment():
        end = consumer.highwater(tp)
        if is_changelog(tp) or end is None:
            continue
        waiting[tp] = (committed.get(tp) or 0, end)
    return waiting


async def watch_once(app: Any, watch: StallWatch, is_changelog: Callable[[Any], bool]) -> bool:
    """One look; seeks back and returns True when a partition is stalled."""
    stalled = watch.stalled(waiting_offsets(app, is_changelog))
    if not stalled:
        return False
    log.warning(
        "input stalled: seeking back to the committed offsets",
        partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in stalled),
        stall_s=watch.stall_s,
    )
    consumer = app.consumer
    try:
        await consumer.perform_seek()
        # faust's seek leaves a partition never committed where it is: from its log's start
        never = [tp for tp in stalled if not consumer._committed_offset.get(tp)]
        if never:
            starts = await consumer.earliest_offsets(*never)
            for tp in never:
                await consumer.seek(tp, starts[tp])
        read_from_committed(consumer, is_changelog)
    finally:
        watch.restarted()  # a seek that failed (the broker away) is tried after a full wait
    return True


def read_from_committed(consumer: Any, is_changelog: Callable[[Any], bool]) -> None:
    """After the seek, the record at each committed offset is the next to be handed over.
    faust's seek marks the committed offset itself as read (its read offsets are the last
    record handed over, the committed one is the next to read), and leaves a partition never
    committed at what it read last: either way the fetcher would drop the very record the
    seek was for (a partition's first record, waiting since the start, stayed undecided)."""
    committed = consumer._committed_offset
    for tp in consumer.assignment():
        if not is_changelog(tp):
            offset = committed.get(tp)
            consumer._read_offset[tp] = offset - 1 if offset else None
