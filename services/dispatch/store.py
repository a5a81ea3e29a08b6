"""Dispatch's SQL: the idempotency ledger (intent -> attempts -> wamid)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.errors import RetryableError


@dataclass(frozen=True)
class LedgerRow:
    intent_id: str
    phone_number_id: str
    recipient: str
    state: str
    wamid: str | None
    attempts: int
    metadata: dict[str, str]


def _row(record: asyncpg.Record) -> LedgerRow:
    return LedgerRow(
        intent_id=record["intent_id"],
        phone_number_id=record["phone_number_id"],
        recipient=record["recipient"],
        state=record["state"],
        wamid=record["wamid"],
        attempts=record["attempts"],
        metadata=json.loads(record["metadata"]),
    )


class Ledger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def _fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        try:
            return await self._pool.fetchrow(sql, *args)
        except (
            OSError,
            asyncpg.PostgresConnectionError,
            asyncpg.TooManyConnectionsError,
            asyncpg.CannotConnectNowError,
            asyncpg.InterfaceError,
        ) as exc:
            raise RetryableError(f"ledger unavailable: {exc}") from exc

    async def claim(
        self,
        intent_id: str,
        phone_number_id: str,
        recipient: str,
        metadata: dict[str, str],
        state: str,
    ) -> tuple[LedgerRow, bool]:
        """Record the intent in `state` unless it is known; returns (row, newly claimed).

        An intent left in `retry` is claimed again (another attempt); any other known state
        means wagate already acted on it.
        """
        record = await self._fetchrow(
            """
            INSERT INTO dispatch_intents (intent_id, phone_number_id, recipient, state, metadata,
                                          attempts)
            VALUES ($1, $2, $3, $4, $5::jsonb, CASE WHEN $4 = 'sending' THEN 1 ELSE 0 END)
            ON CONFLICT (intent_id) DO UPDATE
               SET state = EXCLUDED.state, attempts = dispatch_intents.attempts + 1,
                   updated_at = now()
             WHERE dispatch_intents.state = 'retry' AND EXCLUDED.state = 'sending'
            RETURNING *
            """,
            intent_id,
            phone_number_id,
            recipient,
            state,
            json.dumps(metadata),
        )
        if record is not None:
            return _row(record), True
        existing = await self.get(intent_id)
        assert existing is not None  # the conflict proves the row exists
        return existing, False

    async def get(self, intent_id: str) -> LedgerRow | None:
        record = await self._fetchrow(
            "SELECT * FROM dispatch_intents WHERE intent_id = $1", intent_id
        )
        return _row(record) if record else None

    async def by_wamid(self, wamid: str) -> LedgerRow | None:
        record = await self._fetchrow("SELECT * FROM dispatch_intents WHERE wamid = $1", wamid)
        return _row(record) if record else None

    async def record(
        self,
        intent_id: str,
        state: str,
        *,
        wamid: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        await self._fetchrow(
            """
            UPDATE dispatch_intents
               SET state = $2, wamid = COALESCE($3, wamid),
                   last_error = COALESCE($4::jsonb, last_error), updated_at = now()
             WHERE intent_id = $1
            """,
            intent_id,
            state,
            wamid,
            json.dumps(error) if error is not None else None,
        )
