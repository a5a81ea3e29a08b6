"""Ingest's SQL: the dedupe memory of event ids already published from Meta's webhooks.

Why PostgreSQL and not a compacted topic: several ingest replicas answer Meta concurrently, and
a claim must be atomic across them (`INSERT .. ON CONFLICT`), visible at once, and survive
restarts; a compacted topic would need every replica to read it whole before answering and gives
no atomic claim. Expiry is a plain `DELETE` by age (Meta retries for up to 7 days, so keys are
kept longer than that), with an index on `claimed_at`.

A claim is taken before publishing and marked done after Kafka acknowledged; a failed publish
releases it, and a claim whose request died is taken over once its lease has passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import asyncpg

from services.ingest.errors import DedupeUnavailable
from shared.db import reachable

_CLAIM = """
WITH claimed AS (
    INSERT INTO ingest_seen_events (event_id)
    SELECT unnest($1::text[])
    ON CONFLICT (event_id) DO UPDATE SET claimed_at = now()
        WHERE NOT ingest_seen_events.done
          AND ingest_seen_events.claimed_at < now() - make_interval(secs => $2)
    RETURNING event_id
)
SELECT event_id, true AS mine, false AS done FROM claimed
UNION ALL
SELECT event_id, false, done FROM ingest_seen_events
 WHERE event_id = ANY($1::text[]) AND event_id NOT IN (SELECT event_id FROM claimed)
"""
"""One statement, one round trip: the ids this request now owns, and the state of the others.
The second part reads the statement's snapshot, so an id another request claimed and committed
meanwhile is not in it: it is being published (its `done` needs a later transaction), and is
counted busy, as a row seen with `done` false would be."""


@dataclass(frozen=True)
class Claim:
    """Of the ids asked for: those this request now owns, those already published, and those
    another request is publishing right now."""

    mine: frozenset[str] = field(default_factory=frozenset)
    done: frozenset[str] = field(default_factory=frozenset)
    busy: frozenset[str] = field(default_factory=frozenset)


class SeenEvents:
    def __init__(self, pool: asyncpg.Pool, lease_s: float) -> None:
        self._pool = pool
        self._lease_s = lease_s

    async def claim(self, event_ids: Sequence[str]) -> Claim:
        ids = sorted(set(event_ids))  # one lock order for every request: no deadlocks
        with _reachable():
            rows = await self._pool.fetch(_CLAIM, ids, self._lease_s)
        mine = {r["event_id"] for r in rows if r["mine"]}
        done = {r["event_id"] for r in rows if r["done"]}
        return Claim(
            mine=frozenset(mine),
            done=frozenset(done),
            busy=frozenset(i for i in ids if i not in mine and i not in done),
        )

    async def complete(self, event_ids: Sequence[str]) -> None:
        await self._execute(
            "UPDATE ingest_seen_events SET done = true, claimed_at = now()"
            " WHERE event_id = ANY($1::text[])",
            list(event_ids),
        )

    async def release(self, event_ids: Sequence[str]) -> None:
        await self._execute(
            "DELETE FROM ingest_seen_events WHERE event_id = ANY($1::text[]) AND NOT done",
            list(event_ids),
        )

    async def expire(self, older_than_s: float) -> int:
        """Forget ids older than `older_than_s`; returns how many were forgotten."""
        with _reachable():
            status: str = await self._pool.execute(
                "DELETE FROM ingest_seen_events"
                " WHERE claimed_at < now() - make_interval(secs => $1)",
                older_than_s,
            )
        return int(status.rsplit(" ", 1)[-1])

    async def _execute(self, sql: str, ids: list[str]) -> None:
        if not ids:
            return
        with _reachable():
            await self._pool.execute(sql, ids)


def _reachable() -> AbstractContextManager[None]:
    """A lost or overloaded database inside the block raises DedupeUnavailable."""
    return reachable("dedupe store", DedupeUnavailable)
