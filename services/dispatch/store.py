"""The ledger on PostgreSQL (`ledger.Ledger`): `dispatch_intents`, one row per intent (intent
-> attempts -> wamid, and the decision it is sent by, as the durable queue), and
`dispatch_early_statuses`, statuses kept until their wamid is known.

States and lanes travel as parameters: PostgreSQL plans each statement with their values, so
the partial index of open intents still serves the queue's reads.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from typing import Any

import asyncpg

from services.dispatch.errors import LedgerUnavailable
from services.dispatch.lanes import LANES
from services.dispatch.ledger import (
    INTERNAL,
    RESENDABLE,
    STATE_ONLY,
    Change,
    LedgerRow,
    LedgerState,
    NewIntent,
)
from shared.db import reachable

_OWN = ("state", "metadata", "superseded")
_COLUMNS = [f.name for f in fields(LedgerRow) if f.name not in _OWN]


def _row(record: asyncpg.Record) -> LedgerRow:
    return LedgerRow(
        **{name: record[name] for name in _COLUMNS},
        state=LedgerState(record["state"]),
        metadata=json.loads(record["metadata"]),
        superseded=tuple(record["superseded"]),
    )


class PostgresLedger:
    """The ledger on PostgreSQL; `ledger.Ledger` says what each operation does."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        with reachable("ledger", LedgerUnavailable):
            rows: list[asyncpg.Record] = await self._pool.fetch(sql, *args)
        return rows

    async def _rows(self, sql: str, *args: Any) -> list[LedgerRow]:
        return [_row(record) for record in await self._fetch(sql, *args)]

    async def _one(self, sql: str, *args: Any) -> LedgerRow | None:
        rows = await self._rows(sql, *args)
        return rows[0] if rows else None

    async def claim(self, new: NewIntent) -> tuple[LedgerRow, bool]:
        row = await self._one(
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
        if row is not None:
            return row, True
        existing = await self.get(new.intent_id)
        assert existing is not None  # the conflict proves the row exists
        return existing, False

    async def get(self, intent_id: str) -> LedgerRow | None:
        return await self._one("SELECT * FROM dispatch_intents WHERE intent_id = $1", intent_id)

    async def by_wamid(self, wamid: str) -> LedgerRow | None:
        return await self._one("SELECT * FROM dispatch_intents WHERE wamid = $1", wamid)

    async def start_attempt(self, intent_id: str) -> LedgerRow | None:
        return await self._one(
            """
            UPDATE dispatch_intents
               SET state = $2, attempts = attempts + 1, state_since = now(), updated_at = now()
             WHERE intent_id = $1 AND state = $3
            RETURNING *
            """,
            intent_id,
            LedgerState.SENDING,
            LedgerState.QUEUED,
        )

    async def record(
        self,
        intent_id: str,
        state: LedgerState,
        *,
        expect: LedgerState | None = None,
        change: Change = STATE_ONLY,
    ) -> LedgerRow | None:
        return await self._one(
            """
            UPDATE dispatch_intents
               SET state = $2, wamid = COALESCE($4, wamid),
                   last_error = COALESCE($5::jsonb, last_error),
                   next_attempt_at = $6, decision = COALESCE($7::jsonb, decision),
                   attempts = attempts - CASE WHEN $8 THEN 1 ELSE 0 END,
                   redecision = COALESCE($9::jsonb, redecision),
                   superseded = CASE WHEN $10::text IS NULL THEN superseded
                                     ELSE array_append(superseded, $10::text) END,
                   state_since = CASE WHEN state = $2 THEN state_since ELSE now() END,
                   updated_at = now()
             WHERE intent_id = $1 AND ($3::text IS NULL OR state = $3)
            RETURNING *
            """,
            intent_id,
            state,
            expect,
            change.wamid,
            json.dumps(change.error) if change.error is not None else None,
            change.next_attempt_at,
            change.decision,
            change.refund_attempt,
            change.redecision,
            change.supersede,
        )

    async def resend(self, intent_id: str, requested_by: str) -> LedgerRow | None:
        return await self._one(
            """
            WITH was AS (
                SELECT intent_id, state, attempts FROM dispatch_intents
                 WHERE intent_id = $1 AND state = ANY($3::text[]) FOR UPDATE
            ), moved AS (
                UPDATE dispatch_intents AS d
                   SET state = $2, next_attempt_at = now(), state_since = now(),
                       updated_at = now()
                  FROM was WHERE d.intent_id = was.intent_id
                RETURNING d.*
            ), logged AS (
                INSERT INTO dispatch_resends (intent_id, requested_by, from_state, attempts)
                SELECT intent_id, $4, state, attempts FROM was
            )
            SELECT * FROM moved
            """,
            intent_id,
            LedgerState.QUEUED,
            sorted(RESENDABLE),
            requested_by,
        )

    async def resends(self, intent_id: str) -> list[dict[str, Any]]:
        """The resends asked for the intent, oldest first (who, when, from which state)."""
        rows = await self._fetch(
            """
            SELECT requested_at, requested_by, from_state, attempts FROM dispatch_resends
             WHERE intent_id = $1 ORDER BY requested_at
            """,
            intent_id,
        )
        return [dict(r) for r in rows]

    async def mark_reported(self, intent_id: str, state: LedgerState) -> None:
        await self._fetch(
            "UPDATE dispatch_intents SET reported = $2 WHERE intent_id = $1 AND state = $2",
            intent_id,
            state,
        )

    async def queued(
        self, phone_number_id: str | None = None, limit: int | None = None
    ) -> list[LedgerRow]:
        return await self._rows(
            """
            SELECT * FROM dispatch_intents
             WHERE state = $3 AND ($1::text IS NULL OR phone_number_id = $1)
             ORDER BY next_attempt_at > now(),
                      COALESCE(array_position($4::text[], priority), cardinality($4::text[])),
                      next_attempt_at
             LIMIT $2
            """,
            phone_number_id,
            limit,
            LedgerState.QUEUED,
            list(LANES),
        )

    async def queued_numbers(self) -> list[str]:
        rows = await self._fetch(
            "SELECT DISTINCT phone_number_id FROM dispatch_intents WHERE state = $1",
            LedgerState.QUEUED,
        )
        return [str(r["phone_number_id"]) for r in rows]

    async def stale(
        self, state: LedgerState, before: datetime, limit: int = 500
    ) -> list[LedgerRow]:
        return await self._rows(
            """
            SELECT * FROM dispatch_intents WHERE state = $1 AND state_since < $2
             ORDER BY state_since LIMIT $3
            """,
            state,
            before,
            limit,
        )

    async def unreported(self, before: datetime, limit: int = 500) -> list[LedgerRow]:
        return await self._rows(
            """
            SELECT * FROM dispatch_intents
             WHERE reported IS DISTINCT FROM state
               AND state <> ALL($3::text[]) AND state_since < $1
             ORDER BY state_since LIMIT $2
            """,
            before,
            limit,
            sorted(INTERNAL),
        )

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
