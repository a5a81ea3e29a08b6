"""Pure priority lanes of one business number: replies before notifications before marketing,
each lane ordered by when its intents are due; a customer still inside the pair-rate interval
is stepped over, so one chatty conversation never holds up the rest."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

LANES: tuple[str, ...] = ("reply", "notification", "marketing")


@dataclass(frozen=True)
class Queued:
    intent_id: str
    recipient: str
    priority: str
    source: object = None  # where it came from (a partition), for backpressure accounting


@dataclass
class Lanes:
    _heaps: dict[str, list[tuple[float, int, Queued]]] = field(
        default_factory=lambda: {lane: [] for lane in LANES}
    )
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _ids: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, intent_id: object) -> bool:
        return intent_id in self._ids

    def push(self, item: Queued, due: float) -> bool:
        """Queue `item` to go at `due`; False when it is queued already."""
        if item.intent_id in self._ids:
            return False
        lane = item.priority if item.priority in self._heaps else LANES[-1]
        heapq.heappush(self._heaps[lane], (due, next(self._seq), item))
        self._ids.add(item.intent_id)
        return True

    def pop_ready(self, now: float, pair_wait: Callable[[str], float]) -> Queued | None:
        """The most urgent due intent whose customer may be messaged now, or None."""
        for lane in LANES:
            heap = self._heaps[lane]
            while heap and heap[0][0] <= now:
                _, seq, item = heapq.heappop(heap)
                wait = pair_wait(item.recipient)
                if wait > 0:
                    heapq.heappush(heap, (now + wait, seq, item))
                    continue
                self._ids.discard(item.intent_id)
                return item
        return None

    def next_due(self) -> float | None:
        tops = [heap[0][0] for heap in self._heaps.values() if heap]
        return min(tops) if tops else None

    def drain(self) -> list[Queued]:
        """Remove and return everything queued (the number's circuit opened)."""
        items = [item for heap in self._heaps.values() for _, _, item in heap]
        for heap in self._heaps.values():
            heap.clear()
        self._ids.clear()
        return items
