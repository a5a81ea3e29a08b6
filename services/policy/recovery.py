"""faust's table recovery, cheaper per record.

faust's loop that applies the changelog records takes one record per turn of the event loop,
each through `asyncio.wait_for` (a task, a timer and a waiter) and two formatted debug lines;
`QuickRecovery` takes every record queued at once and applies them in turn, with faust's
bookkeeping for each (the offsets, the buffers flushed into the table, the end signalled when
no active partition lags) and, once per batch taken, the standbys marked ready.

And faust asks, after every changelog record it recovers, whether any active partition still has
records to read, and answers by building a counter of what remains over every active
changelog partition (about a hundred here: ten tables of twelve partitions): at a million
windows about a sixth of the recovery's samples. `QuickRecovery` asks the partition that lagged last
time first, so the answer is one look while that partition still lags; the answer is the
same."""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Any

from faust.tables import TableManager
from faust.tables.recovery import Recovery
from mode import Service

from shared import logs

log = logs.get(__name__)
IDLE_S = 5.0  # with nothing queued this long, whether recovery is done is asked anyway
TAKE = 10_000  # records taken from the queue at most before those taken are applied


class QuickRecovery(Recovery):
    _lagging: Any = None  # the partition found behind its highwater at the last look

    @Service.task
    async def _slurp_changelogs(self) -> None:
        if self.app.in_transaction:  # faust's own, which also looks for aborted transactions
            await Recovery._slurp_changelogs.fun(self)
            return
        queue = self.tables.changelog_queue
        while not self.should_stop:
            self.signal_recovery_end.clear()
            try:
                events = [await asyncio.wait_for(queue.get(), timeout=IDLE_S)]
                while len(events) < TAKE and not queue.empty():
                    events.append(queue.get_nowait())
            except TimeoutError:
                if not self.should_stop:
                    self._maybe_recovered()
                continue
            except Exception as exc:  # as faust's: the loop goes on
                log.warning("recovery failed to read a changelog record", error=repr(exc))
                continue
            for event in events:
                try:
                    await self._apply(event)
                except Exception as exc:
                    log.warning("recovery failed to apply a changelog record", error=repr(exc))
            self._standbys_caught_up()

    async def _apply(self, event: Any) -> None:
        """One changelog record into its table's buffer (the buffer into the table once full),
        unless its offset was seen; then whether the actives are recovered."""
        now = monotonic()
        tp, offset = event.message.tp, event.message.offset
        table = self.tp_to_table.get(tp)
        active = tp in self.active_tps
        if table is None or not (active or tp in self.standby_tps):
            log.warning("recovery met a record of a partition it does not recover", tp=str(tp))
            return
        if active:
            offsets, received, default = (
                self.active_offsets,
                self._active_events_received_at,
                table.recovery_buffer_size,
            )
        else:
            offsets, received, default = (
                self.standby_offsets,
                self._standby_events_received_at,
                table.standby_buffer_size,
            )
        received[tp] = now
        seen = offsets.get(tp)
        if seen is None or offset > seen:
            offsets[tp] = offset
            buffer = self.buffers[table]
            buffer.append(event)
            await table.on_changelog_event(event)
            if len(buffer) >= self.buffer_sizes.setdefault(tp, default):
                table.apply_changelog_batch(buffer)
                buffer.clear()
                self._last_flush_at = now
            if active:
                self._processed(monotonic())
        self._maybe_recovered()

    def _standbys_caught_up(self) -> None:
        """The standbys marked ready once none lags: asked once per batch taken, since the
        answer counts what remains over every standby partition."""
        ready = self._standbys_span is None and self.tables.standbys_ready
        if not ready and not self.standby_remaining_total():
            self.tables.on_standbys_ready()

    def _processed(self, at: float) -> None:
        """The time between two active records, kept for faust's estimate of what remains."""
        last, self._last_active_event_processed_at = self._last_active_event_processed_at, at
        if last is not None:
            self._processing_times.append(at - last)
            if len(self._processing_times) > self.num_samples_required_for_estimate:
                self._processing_times.popleft()

    def _maybe_recovered(self) -> None:
        if self.in_recovery and not self.need_recovery():
            self.flush_buffers()  # what the buffers hold goes into the tables first
            self._set_recovery_ended()
            if self._actives_span is not None:
                self._actives_span.set_tag("Actives-Ready", True)
            self.signal_recovery_end.set()

    def need_recovery(self) -> bool:
        highwaters, offsets = self.active_highwaters, self.active_offsets
        tp = self._lagging
        if tp is not None and _behind(highwaters.get(tp), offsets[tp]):
            return True
        for tp, highwater in highwaters.items():
            if _behind(highwater, offsets[tp]):
                self._lagging = tp
                return True
        self._lagging = None
        return False


def _behind(highwater: int | None, offset: int | None) -> bool:
    return highwater is not None and offset is not None and highwater - offset > 0


class QuickTableManager(TableManager):
    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = QuickRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
