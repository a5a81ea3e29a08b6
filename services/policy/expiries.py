"""When each window of this worker next has a change due, so that the window timer's tick
costs what is due, not a pass over every window (at a million windows a pass took longer
than the tick's interval and held the event loop: nothing was decided).

`Expiries` keeps a heap of (instant, window's end, key), one entry per open window: its
`expiring` instant (its end less the lead), then its `closed` instant (its end). Every write
to the windows table goes through `Watched`, which marks the key; a tick first schedules the
marked keys from their current state, then takes from the heap what is due. An entry whose
window has moved on (a newer customer message, a later end) is stale and dropped: the newer
state has an entry of its own. The table's entries written behind the handlers' back
(recovered from the changelog on start or after a rebalance) are marked all at once by
`reload`, which the handlers call whenever the worker's assignment changes; the marked keys
are then scheduled a slice at a time, yielding to the event loop between slices, so deciding
goes on meanwhile."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from services.policy.windows import WindowState

SLICE = 2_000  # keys scheduled between two yields to the event loop


class Watched(MutableMapping[str, Any]):
    """A table whose every write and delete is told to `touched(key)`."""

    def __init__(self, table: MutableMapping[str, Any], touched: Callable[[str], None]) -> None:
        self.table = table
        self._touched = touched

    def __getitem__(self, key: str) -> Any:
        return self.table[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self.table[key] = value
        self._touched(key)

    def __delitem__(self, key: str) -> None:
        del self.table[key]
        self._touched(key)

    def __contains__(self, key: object) -> bool:
        return key in self.table

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    def items(self) -> Any:
        return self.table.items()


class Expiries:
    def __init__(self, read: Callable[[str], WindowState | None]) -> None:
        self._read = read  # the window as the table holds it now
        self._heap: list[tuple[float, float, str]] = []  # (instant, window's end, key)
        self._ends: dict[str, float] = {}  # each scheduled key's window end
        self._marked: dict[str, None] = {}  # keys to schedule, in the order they were marked
        self._lead: float | None = None
        self._last = float("-inf")  # the instant the last tick took everything up to

    def touched(self, key: str) -> None:
        self._marked[key] = None

    def reload(self, keys: Iterable[str]) -> None:
        """Mark every key: the table was filled behind the handlers' back."""
        self._marked.update(dict.fromkeys(keys))

    @property
    def scheduled(self) -> int:
        return len(self._ends)

    async def due(self, now: datetime, lead: timedelta) -> list[tuple[str, WindowState]]:
        """The windows with a change due at `now` (the caller tells which, by
        `windows.due_changes`): each at its `expiring` instant and at its end."""
        if self._lead != lead.total_seconds():  # the instants depend on the lead: start over
            self._lead = lead.total_seconds()
            self._marked.update(dict.fromkeys(self._ends))
            self._ends.clear()
            self._heap.clear()
        await self._schedule_marked()
        at = now.timestamp()
        found: dict[str, WindowState] = {}
        while self._heap and self._heap[0][0] <= at:
            instant, end, key = heapq.heappop(self._heap)
            if self._ends.get(key) != end:
                continue  # stale: the window moved on, and its new end is scheduled
            if instant == end:
                del self._ends[key]  # its last instant: nothing more is due for this end
            else:
                heapq.heappush(self._heap, (end, end, key))  # next: its end
            state = self._read(key)
            if state is not None and state.expires_at is not None:
                found[key] = state
        self._last = max(self._last, at)
        if len(self._heap) > 2 * len(self._ends) + 1_000:
            self._compact()
        return list(found.items())

    async def _schedule_marked(self) -> None:
        while self._marked:
            keys, self._marked = list(self._marked), {}  # marked meanwhile: the next round
            for start in range(0, len(keys), SLICE):
                if start:
                    await asyncio.sleep(0)  # let the agents decide between slices
                for key in keys[start : start + SLICE]:
                    self._schedule(key)

    def _schedule(self, key: str) -> None:
        state = self._read(key)
        expires = state.expires_at if state is not None else None
        if expires is None:
            self._ends.pop(key, None)
            return
        end = expires.timestamp()
        if self._ends.get(key) == end:
            return  # scheduled already
        self._ends[key] = end
        self._push(key, end, since=float("-inf"))  # an instant past already is due at once

    def _push(self, key: str, end: float, since: float) -> None:
        """The window's next instant after `since`: its `expiring` one, else its end (one
        entry per window; the end is pushed once the `expiring` instant is taken)."""
        expiring = end - (self._lead or 0.0)
        heapq.heappush(self._heap, (expiring if expiring > since else end, end, key))

    def _compact(self) -> None:
        """Drop the stale entries: one per scheduled window remains. Every instant up to the
        last tick's was taken then, so a window past its `expiring` instant waits for its
        end."""
        self._heap.clear()
        for key, end in self._ends.items():
            self._push(key, end, since=self._last)
