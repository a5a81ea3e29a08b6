"""Deferred intents (quiet hours): held per conversation in a table, and put back on the
intents topic at their release time to be decided again.

A timer cannot write a faust table (writes belong to the partition of the event in hand), so
release goes through the topic: the intents agent takes the intent out of the table, on its
own partition, and decides it afresh. A release sent twice finds nothing to take the second
time and is dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

RELEASED_HEADER = "wagate-released"
Release = Callable[[str, bytes], Awaitable[None]]


class Deferrals:
    def __init__(self, table: MutableMapping[str, Any], release: Release) -> None:
        self._table = table
        self._release = release
        self._sent: set[tuple[str, str]] = set()

    def hold(self, key: str, intent_id: str, release_at: datetime, raw: bytes) -> None:
        pending = dict(self._table.get(key) or {})
        pending[intent_id] = {"release_at": release_at.isoformat(), "intent": raw.decode()}
        self._table[key] = pending

    def take(self, key: str, intent_id: str) -> str | None:
        """Remove a held intent; its release time, or None when it is not (or no longer) held."""
        pending = dict(self._table.get(key) or {})
        item = pending.pop(intent_id, None)
        if item is None:
            return None
        if pending:
            self._table[key] = pending
        else:
            del self._table[key]
        return str(item["release_at"])

    def held(self, key: str) -> dict[str, Any]:
        return dict(self._table.get(key) or {})

    async def release_due(self, now: datetime) -> int:
        count = 0
        for key, pending in list(self._table.items()):
            for intent_id, item in (pending or {}).items():
                due = datetime.fromisoformat(item["release_at"]) <= now
                if due and (intent_id, item["release_at"]) not in self._sent:
                    await self._release(str(key), str(item["intent"]).encode())
                    self._sent.add((intent_id, item["release_at"]))
                    count += 1
        return count
