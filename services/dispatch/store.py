"""Dispatch's SQL: the idempotency ledger (intent -> attempts -> wamid), which is also the
durable queue of approved intents, and statuses kept until their wamid is known.

Every state change is a compare-and-set on the current state, so two replicas, or a status
racing the settler, never both act on one intent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.dispatch.errors import LedgerUnavailable
from shared.db import reachable


@dataclass(frozen=True)
class LedgerRow:
    intent_id: str
    phone_number_id: str
    recipient: str
    state: str
    wamid: str | None
    attempts: int
    metadata: dict[str, str]
    priority: str = "notification"
    not_after: datetime | None = None
    next_attempt_at: datetime | None = None
    state_since: datetime | None = None
    reported: str | None = None
    decision: str | None = None


def _row(record: asyncpg.Record) -> LedgerRow:
    return LedgerRow(
        intent_id=record["intent_id"],
        phone_number_id=record["phone_number_id"],
        recipient=record["recipient"],
        state=record["state"],
        wamid=record["wamid"],
        attempts=record["attempts"],
        metadata=json.loads(record["metadata"]),
        priority=record["priority"],
        not_after=record["not_after"],
        next_attempt_at=record["next_attempt_at"],
        state_since=record["state_since"],
        reported=record["reported"],
        decision=record["decision"],
    )


@dataclass(frozen=True)
class NewIntent:
    intent_id: str
    phone_number_id: str
    recipient: str
    metadata: dict[str, str]
    state: str
    decision: str | None = None
    priority: str = "notification"
    not_after: datetime | None = None


class Ledger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        with reachable("ledger", LedgerUnavailable):
            rows: list[asyncpg.Record] = await self._pool.fetch(sql, *args)
        return rows

    async def _one(self, sql: str, *args: Any) -> asyncpg.Record | None:
        rows = await self._fetch(sql, *args)
        return rows[0] if rows else None

    async def claim(self, new: NewIntent) -> tuple[LedgerRow, bool]:
        """Record the intent unless it is known; returns (row, newly recorded)."""
        record = await self._one(
            """
            INSERT INTO dispatch_intents (intent_id, phone_number_id, recipient, state, metadata,
                                          decision, priority, not_after, next_attempt_at)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, now())
            ON CONFLICT (intent_id) DO NOTHING
            RETURNING *
            """,
            new.intent_id,
            new.phone_number_id,
            new.recipient,
            new.state,
            json.dumps(new.metadata),
            new.decision,
            new.priority,
            new.not_after,
        )
        if record is not None:
            return _row(record), True
        existing = await self.get(new.intent_id)
        assert existing is not None  # the conflict proves the row exists
        return existing, False

    async def get(self, intent_id: str) -> LedgerRow | None:
        record = await self._one("SELECT * FROM dispatch_intents WHERE intent_id = $1", intent_id)
        return _row(record) if record else None

    async def by_wamid(self, wamid: str) -> LedgerRow | None:
        record = await self._one("SELECT * FROM dispatch_intents WHERE wamid = $1", wamid)
        return _row(record) if record else None

    async def start_attempt(self, intent_id: str) -> LedgerRow | None:
        """Move a queued intent to `sending` with one more attempt, before the request leaves;
        None when it is not queued (another replica took it, or it was settled)."""
        record = await self._one(
            """
            UPDATE dispatch_intents
               SET state = 'sending', attempts = attempts + 1, state_since = now(),
                   updated_at = now()
             WHERE intent_id = $1 AND state = 'queued'
            RETURNING *
            """,
            intent_id,
        )
        return _row(record) if record else None

    async def record(
        self,
        intent_id: str,
        state: str,
        *,
        expect: str | None = None,
        wamid: str | None = None,
        error: dict[str, Any] | None = None,
        next_attempt_at: datetime | None = None,
        decision: str | None = None,
        refund_attempt: bool = False,
    ) -> LedgerRow | None:
        """Set the intent's state (only from `expect` when given); None when `expect` failed."""
        record = await self._one(
            """
            UPDATE dispatch_intents
               SET state = $2, wamid = COALESCE($4, wamid),
                   last_error = COALESCE($5::jsonb, last_error),
                   next_attempt_at = $6, decision = COALESCE($7::jsonb, decision),
                   attempts = attempts - CASE WHEN $8 THEN 1 ELSE 0 END,
                   state_since = CASE WHEN state = $2 THEN state_since ELSE now() END,
                   updated_at = now()
             WHERE intent_id = $1 AND ($3::text IS NULL OR state = $3)
            RETURNING *
            """,
            intent_id,
            state,
            expect,
            wamid,
            json.dumps(error) if error is not None else None,
            next_attempt_at,
            decision,
            refund_attempt,
        )
        return _row(record) if record else None

    async def mark_reported(self, intent_id: str, state: str) -> None:
        await self._fetch(
            "UPDATE dispatch_intents SET reported = $2 WHERE intent_id = $1 AND state = $2",
            intent_id,
            state,
        )

    async def queued(
        self, phone_number_id: str | None = None, limit: int | None = None
    ) -> list[LedgerRow]:
        """Queued intents (all numbers, or one), the soonest due first, replies first."""
        rows = await self._fetch(
            """
            SELECT * FROM dispatch_intents
             WHERE state = 'queued' AND ($1::text IS NULL OR phone_number_id = $1)
             ORDER BY next_attempt_at > now(),
                      CASE priority WHEN 'reply' THEN 0 WHEN 'notification' THEN 1 ELSE 2 END,
                      next_attempt_at
             LIMIT $2
            """,
            phone_number_id,
            limit,
        )
        return [_row(r) for r in rows]

    async def queued_numbers(self) -> list[str]:
        rows = await self._fetch(
            "SELECT DISTINCT phone_number_id FROM dispatch_intents WHERE state = 'queued'"
        )
        return [str(r["phone_number_id"]) for r in rows]

    async def stale(self, state: str, before: datetime, limit: int = 500) -> list[LedgerRow]:
        rows = await self._fetch(
            """
            SELECT * FROM dispatch_intents WHERE state = $1 AND state_since < $2
             ORDER BY state_since LIMIT $3
            """,
            state,
            before,
            limit,
        )
        return [_row(r) for r in rows]

    async def unreported(self, before: datetime, limit: int = 500) -> list[LedgerRow]:
        """Rows whose state changed but whose update was never confirmed published."""
        rows = await self._fetch(
            """
            SELECT * FROM dispatch_intents
             WHERE reported IS DISTINCT FROM state
               AND state NOT IN ('queued', 'sending') AND state_since < $1
             ORDER BY state_since LIMIT $2
            """,
            before,
            limit,
        )
        return [_row(r) for r in rows]

    async def keep_status(self, wamid: str, status: str, event: str) -> None:
        await self._fetch(
            """
            INSERT INTO dispatch_early_statuses (wamid, status, event) VALUES ($1, $2, $3::jsonb)
            ON CONFLICT DO NOTHING
            """,
            wamid,
            status,
            event,
        )

    async def take_statuses(self, wamid: str) -> list[str]:
        rows = await self._fetch(
            "DELETE FROM dispatch_early_statuses WHERE wamid = $1 RETURNING event", wamid
        )
        return [str(r["event"]) for r in rows]

    async def forget_statuses(self, before: datetime) -> None:
        await self._fetch("DELETE FROM dispatch_early_statuses WHERE received_at < $1", before)
