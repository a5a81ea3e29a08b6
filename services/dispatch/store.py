"""The ledger on PostgreSQL (`ledger.Ledger`): `dispatch_intents`, one row per intent (intent
-> attempts -> wamid, and the decision it is sent by, as the durable queue), and
`dispatch_early_statuses`, statuses kept until their wamid is known.

States and lanes travel as parameters: PostgreSQL plans each statement with their values, so
the partial index of open intents still serves the queue's reads.

The writes every send makes (starting the attempt, recording the answer, marking the update
reported, taking early statuses) go by group commit (`batches.Batch`): the concurrent sends of
a moment share one statement each. A partition's statuses read, move and mark their intents
in one statement each (`named`, `record_many`, `mark_reported_many`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
    Write,
)
from shared.batches import MAX_BATCH, Batch
from shared.db import reachable

_OWN = ("state", "metadata", "superseded")
_COLUMNS = [f.name for f in fields(LedgerRow) if f.name not in _OWN]


_CLAIMED = ("intent_id", "phone_number_id", "recipient", "state", "metadata", "decision",
            "priority", "not_after", "report")  # fmt: skip
_CLAIM = """
INSERT INTO dispatch_intents (intent_id, phone_number_id, recipient, state, metadata, decision,
                              priority, not_after, next_attempt_at, report)
SELECT c.intent_id, c.phone_number_id, c.recipient, c.state, c.metadata::jsonb,
       c.decision::jsonb, c.priority, c.not_after, now(), c.report::jsonb
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::timestamptz[], $9::text[]) WITH ORDINALITY
       AS c (intent_id, phone_number_id, recipient, state, metadata, decision, priority,
             not_after, report, n)
 ORDER BY c.n
ON CONFLICT (intent_id) DO NOTHING
RETURNING *
"""
"""Records the intents not known yet, in their order, each due now (`Ledger.claim_many`)."""

_RECORD = """
UPDATE dispatch_intents AS d
   SET state = c.state, wamid = COALESCE(c.wamid, d.wamid),
       last_error = COALESCE(c.error::jsonb, d.last_error),
       next_attempt_at = c.next_attempt_at, decision = COALESCE(c.decision::jsonb, d.decision),
       attempts = d.attempts - CASE WHEN c.refund THEN 1 ELSE 0 END,
       redecision = COALESCE(c.redecision::jsonb, d.redecision),
       superseded = CASE WHEN c.supersede IS NULL THEN d.superseded
                         ELSE array_append(d.superseded, c.supersede) END,
       state_since = CASE WHEN d.state = c.state THEN d.state_since ELSE now() END,
       report = CASE WHEN c.report IS NOT NULL THEN c.report::jsonb
                     WHEN d.state = c.state THEN d.report END,
       updated_at = now()
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
              $7::text[], $8::bool[], $9::text[], $10::text[], $11::text[])
       AS c (intent_id, state, expect, wamid, error, next_attempt_at, decision, refund,
             redecision, supersede, report)
 WHERE d.intent_id = c.intent_id AND (c.expect IS NULL OR d.state = c.expect)
RETURNING d.*
"""


def _record_columns(calls: Sequence[Write]) -> list[list[Any]]:
    """`_RECORD`'s parameters: one array per column, an element per call."""
    return [
        [intent_id for intent_id, _, _, _ in calls],
        [state for _, state, _, _ in calls],
        [expect for _, _, expect, _ in calls],
        [c.wamid for *_, c in calls],
        [json.dumps(c.error) if c.error is not None else None for *_, c in calls],
        [c.next_attempt_at for *_, c in calls],
        [c.decision for *_, c in calls],
        [c.refund_attempt for *_, c in calls],
        [c.redecision for *_, c in calls],
        [c.supersede for *_, c in calls],
        [c.report for *_, c in calls],
    ]


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
        self._starts = Batch(self._start_many, keys=lambda intent_id: (intent_id,))
        self._records = Batch(self._record_many, keys=lambda call: (call[0],))
        self._marks = Batch(self._mark_many, keys=lambda call: (call[0],))
        self._takes = Batch(self._take_many, keys=lambda wamid: (wamid,))

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
        (claimed,) = await self.claim_many([new])
        return claimed

    async def claim_many(self, news: Sequence[NewIntent]) -> list[tuple[LedgerRow, bool]]:
        columns = [[getattr(new, name) for new in news] for name in _CLAIMED]
        columns[_CLAIMED.index("metadata")] = [json.dumps(new.metadata) for new in news]
        fresh = {row.intent_id: row for row in await self._rows(_CLAIM, *columns)}
        known = [new.intent_id for new in news if new.intent_id not in fresh]
        existing = {row.intent_id: row for row in await self._many(known)} if known else {}
        # the conflict proves each row not inserted exists
        return [
            (fresh[new.intent_id], True) if new.intent_id in fresh
            else (existing[new.intent_id], False)
            for new in news
        ]  # fmt: skip

    async def _many(self, intent_ids: Sequence[str]) -> list[LedgerRow]:
        return await self._rows(
            "SELECT * FROM dispatch_intents WHERE intent_id = ANY($1::text[])", list(intent_ids)
        )

    async def get(self, intent_id: str) -> LedgerRow | None:
        return await self._one("SELECT * FROM dispatch_intents WHERE intent_id = $1", intent_id)

    async def named(self, intent_ids: Sequence[str], wamids: Sequence[str]) -> list[LedgerRow]:
        return await self._rows(
            """
            SELECT * FROM dispatch_intents
             WHERE intent_id = ANY($1::text[]) OR wamid = ANY($2::text[])
            """,
            list(intent_ids),
            list(wamids),
        )

    async def by_wamid(self, wamid: str) -> LedgerRow | None:
        return await self._one("SELECT * FROM dispatch_intents WHERE wamid = $1", wamid)

    async def start_attempt(self, intent_id: str) -> LedgerRow | None:
        return await self._starts(intent_id)

    async def _start_many(self, intent_ids: Sequence[str]) -> list[LedgerRow | None]:
        started = await self._rows(
            """
            UPDATE dispatch_intents
               SET state = $2, attempts = attempts + 1, state_since = now(), updated_at = now()
             WHERE intent_id = ANY($1::text[]) AND state = $3
            RETURNING *
            """,
            list(intent_ids),
            LedgerState.SENDING,
            LedgerState.QUEUED,
        )
        by_id = {row.intent_id: row for row in started}
        return [by_id.get(intent_id) for intent_id in intent_ids]

    async def record(
        self,
        intent_id: str,
        state: LedgerState,
        *,
        expect: LedgerState | None = None,
        change: Change = STATE_ONLY,
    ) -> LedgerRow | None:
        return await self._records((intent_id, state, expect, change))

    async def _record_many(self, calls: Sequence[Write]) -> list[LedgerRow | Exception | None]:
        try:
            moved = await self._rows(_RECORD, *_record_columns(calls))
        except asyncpg.UniqueViolationError:  # a wamid another intent has: find whose, alone
            return [await self._record_alone(call) for call in calls]
        by_id = {row.intent_id: row for row in moved}
        return [by_id.get(call[0]) for call in calls]

    async def record_many(self, writes: Sequence[Write]) -> list[LedgerRow | None]:
        assert len({intent_id for intent_id, *_ in writes}) == len(writes), "an intent twice"
        done: list[LedgerRow | None] = []
        for at in range(0, len(writes), MAX_BATCH):
            moved = await self._record_many(writes[at : at + MAX_BATCH])
            done += [None if isinstance(row, Exception) else row for row in moved]
        return done

    async def _record_alone(self, call: Write) -> LedgerRow | Exception | None:
        try:
            return await self._one(_RECORD, *_record_columns([call]))
        except asyncpg.UniqueViolationError as exc:
            refused: Exception = exc  # for that call's caller to raise
            return refused

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
        await self._marks((intent_id, state))

    async def mark_reported_many(self, marks: Sequence[tuple[str, LedgerState]]) -> None:
        for at in range(0, len(marks), MAX_BATCH):
            await self._mark_many(marks[at : at + MAX_BATCH])

    async def _mark_many(self, calls: Sequence[tuple[str, LedgerState]]) -> list[None]:
        await self._fetch(
            """
            UPDATE dispatch_intents AS d SET reported = c.state
              FROM unnest($1::text[], $2::text[]) AS c (intent_id, state)
             WHERE d.intent_id = c.intent_id AND d.state = c.state
            """,
            [intent_id for intent_id, _ in calls],
            [state for _, state in calls],
        )
        return [None] * len(calls)

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
        return await self._takes(wamid)

    async def _take_many(self, wamids: Sequence[str]) -> list[list[str]]:
        rows = await self._fetch(
            """
            DELETE FROM dispatch_early_statuses WHERE wamid = ANY($1::text[])
            RETURNING wamid, event
            """,
            list(wamids),
        )
        taken: dict[str, list[str]] = {wamid: [] for wamid in wamids}
        for r in rows:
            taken[str(r["wamid"])].append(str(r["event"]))
        return [taken[wamid] for wamid in wamids]

    async def forget_statuses(self, before: datetime) -> None:
        await self._fetch("DELETE FROM dispatch_early_statuses WHERE received_at < $1", before)

    async def recorded_kept(self, limit: int = 500) -> list[str]:
        rows = await self._fetch(
            """
            SELECT DISTINCT e.wamid FROM dispatch_early_statuses AS e
              JOIN dispatch_intents AS d ON d.wamid = e.wamid
             LIMIT $1
            """,
            limit,
        )
        return [str(r["wamid"]) for r in rows]
