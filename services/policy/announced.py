"""The window changes this process announced, each remembered only while it could still be
due: an `expiring` change until its window ends, a `closed` one until `closed_within` after
that. The timer asks again every tick, so without forgetting, a worker would keep an id for
every window it ever saw expire."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Announced:
    _until: dict[str, datetime] = field(default_factory=dict)
    _order: list[tuple[datetime, str]] = field(default_factory=list)  # a heap by `until`

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._until

    def __len__(self) -> int:
        return len(self._until)

    def add(self, event_id: str, until: datetime) -> None:
        """Remember `event_id` until `until`, the moment its change stops being due; a later
        `until` for an id already kept extends it."""
        kept = self._until.get(event_id)
        if kept is not None and kept >= until:
            return
        self._until[event_id] = until
        heapq.heappush(self._order, (until, event_id))

    def forget_due_by(self, now: datetime) -> int:
        """Forget every id whose change is no longer due at `now`; returns how many."""
        forgotten = 0
        while self._order and self._order[0][0] <= now:
            until, event_id = heapq.heappop(self._order)
            if self._until.get(event_id) == until:  # not extended since
                del self._until[event_id]
                forgotten += 1
        return forgotten
