"""The console's SQL for writing: a batch of projected rows in one transaction (one
multi-row statement per table, idempotent on each row's event id), retention, and the
record of redrives. Reads are in `queries.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.console.errors import StoreUnavailable
from services.console.projection import Batch
from services.console.tables import TABLES, Table
from shared.db import reachable

STORE = "console read model"

_CUSTOMERS = "INSERT INTO console_customers (customer) VALUES ($1) ON CONFLICT DO NOTHING"
_IDENTITIES = """
    INSERT INTO console_identities (customer, identifier, kind, first_seen, last_seen, source)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (customer, identifier) DO UPDATE
       SET first_seen = LEAST(console_identities.first_seen, EXCLUDED.first_seen),
           last_seen = GREATEST(console_identities.last_seen, EXCLUDED.last_seen),
           source = COALESCE(console_identities.source, EXCLUDED.source)"""


def insert_sql(table: Table) -> str:
    """An INSERT of one row that does nothing when the row is already there."""
    holders = ", ".join(
        f"${i}::jsonb" if c in table.json else f"${i}" for i, c in enumerate(table.columns, 1)
    )
    columns = ", ".join(f'"{c}"' for c in table.columns)
    conflict = ", ".join(f'"{c}"' for c in table.conflict)
    return (
        f"INSERT INTO {table.name} ({columns}) VALUES ({holders})"  # noqa: S608 - constants
        f" ON CONFLICT ({conflict}) DO NOTHING"
    )


_INSERTS = {t.name: insert_sql(t) for t in TABLES}

# Retention keeps the latest row of what is current state (a template's, an account's).
_RETENTION = {
    "console_intents": "DELETE FROM console_intents WHERE occurred_at < $1",
    "console_decisions": "DELETE FROM console_decisions WHERE occurred_at < $1",
    "console_deliveries": "DELETE FROM console_deliveries WHERE occurred_at < $1",
    "console_windows": "DELETE FROM console_windows WHERE occurred_at < $1",
    "console_consent": "DELETE FROM console_consent WHERE occurred_at < $1",
    "console_inbound": "DELETE FROM console_inbound WHERE occurred_at < $1",
    "console_dead_letters": "DELETE FROM console_dead_letters WHERE occurred_at < $1",
    "console_template_states": """
        DELETE FROM console_template_states t WHERE t.occurred_at < $1 AND EXISTS (
            SELECT 1 FROM console_template_states n
             WHERE n.waba_id = t.waba_id AND n.name = t.name AND n.language = t.language
               AND (n.version, n.occurred_at, n.event_id)
                 > (t.version, t.occurred_at, t.event_id))""",
    "console_account_updates": """
        DELETE FROM console_account_updates t WHERE t.occurred_at < $1 AND EXISTS (
            SELECT 1 FROM console_account_updates n
             WHERE n.waba_id = t.waba_id AND n.field = t.field
               AND n.display_phone_number IS NOT DISTINCT FROM t.display_phone_number
               AND (n.occurred_at, n.event_id) > (t.occurred_at, t.event_id))""",
    "console_identities": "DELETE FROM console_identities WHERE last_seen < $1",
    "console_customers": """
        DELETE FROM console_customers c WHERE c.first_seen < $1 AND NOT EXISTS (
            SELECT 1 FROM console_identities i WHERE i.customer = c.customer)""",
}


class ReadModelStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def write(self, batch: Batch) -> dict[str, int]:
        """Write a batch in one transaction; returns the rows offered per table (rows already
        there are left as they are)."""
        written: dict[str, int] = {}
        identities = batch.identities()
        with reachable(STORE, StoreUnavailable):
            async with self._pool.acquire() as conn, conn.transaction():
                if identities:
                    customers = sorted({row[0] for row in identities})
                    await conn.executemany(_CUSTOMERS, [(c,) for c in customers])
                    await conn.executemany(_IDENTITIES, identities)
                for table in TABLES:
                    rows = batch.rows.get(table.name)
                    if rows:
                        await conn.executemany(_INSERTS[table.name], rows)
                        written[table.name] = len(rows)
        return written

    async def forget_before(self, cutoff: datetime) -> dict[str, int]:
        """Retention: delete what is older than `cutoff`; returns the rows deleted per table."""
        deleted: dict[str, int] = {}
        with reachable(STORE, StoreUnavailable):
            async with self._pool.acquire() as conn:
                for table, sql in _RETENTION.items():
                    status = await conn.execute(sql, cutoff)
                    deleted[table] = int(status.rsplit(" ", 1)[-1])
        return deleted

    async def redriven(self, topic: str, partition: int, offset: int, by: str) -> None:
        await self._execute(
            "UPDATE console_dead_letters SET redriven_at = now(), redriven_by = $4,"
            ' redrives = redrives + 1 WHERE topic = $1 AND partition = $2 AND "offset" = $3',
            topic,
            partition,
            offset,
            by,
        )

    async def customer(self, customer: str) -> int:
        """The id of a customer, noted now when the read model has not seen them yet."""
        with reachable(STORE, StoreUnavailable):
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(_CUSTOMERS, customer)
                found: int = await conn.fetchval(
                    "SELECT id FROM console_customers WHERE customer = $1", customer
                )
        return found

    async def _execute(self, sql: str, *args: Any) -> None:
        with reachable(STORE, StoreUnavailable):
            await self._pool.execute(sql, *args)
