"""Ingest's SQL: the dedupe memory of event ids already published from Meta's webhooks.

Why PostgreSQL and not a compacted topic: several ingest replicas answer Meta concurrently, and
a claim must be atomic across them (`INSERT .. ON CONFLICT`), visible at once, and survive
restarts; a compacted topic would need every replica to read it whole before answering and gives
no atomic claim. Expiry is a plain `DELETE` by age (Meta retries for up to 7 days, so keys are
kept longer than that), with an index on `claimed_at`.

A claim is taken before publishing and marked done after Kafka acknowledged; a failed publish
releases it, and a claim whose request died is taken over once its lease has passed. Claims and
completions of concurrent webhooks go by group commit (`shared.batches.Batch`): one statement
for the webhooks of one moment, a webhook's ids never in one batch with another's that repeats
one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import asyncpg

from services.ingest.errors import DedupeUnavailable
from shared.batches import Batch
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
        self._claims = Batch(self._claim_many, keys=lambda ids: ids)
        self._completions = Batch(self._complete_many, keys=lambda ids: ids)

    async def claim(self, event_ids: Sequence[str]) -> Claim:
        return await self._claims(tuple(sorted(set(event_ids))))

    async def _claim_many(self, claims: Sequence[tuple[str, ...]]) -> list[Claim]:
        ids = sorted(i for claim in claims for i in claim)  # one lock order: no deadlocks
        with _reachable():
            rows = await self._pool.fetch(_CLAIM, ids, self._lease_s)
        mine = {r["event_id"] for r in rows if r["mine"]}
        done = {r["event_id"] for r in rows if r["done"]}
        return [
            Claim(
                mine=frozenset(mine.intersection(claim)),
                done=frozenset(done.intersection(claim)),
                busy=frozenset(i for i in claim if i not in mine and i not in done),
            )
            for claim in claims
        ]

    async def complete(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            await self._completions(tuple(sorted(set(event_ids))))

    async def _complete_many(self, completions: Sequence[tuple[str, ...]]) -> list[None]:
        await self._execute(
            "UPDATE ingest_seen_events SET done = true, claimed_at = now()"
            " WHERE event_id = ANY($1::text[])",
            sorted(i for ids in completions for i in ids),
        )
        return [None] * len(completions)

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
