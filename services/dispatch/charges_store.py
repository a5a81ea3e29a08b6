"""The charges on PostgreSQL (`charges.ChargeBook`): `dispatch_charges`, one row per wamid with
the latest pricing Meta reported for it, never changed once a delivered status priced it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.dispatch.charges import Charge
from services.dispatch.errors import LedgerUnavailable
from shared.db import reachable

_RECORD = """
WITH before AS (SELECT delivered FROM dispatch_charges WHERE wamid = $1)
INSERT INTO dispatch_charges AS c (wamid, intent_id, phone_number_id, template, category,
                                   pricing_type, pricing_model, billable, delivered, charged,
                                   priced_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (wamid) DO UPDATE SET
    category = EXCLUDED.category, pricing_type = EXCLUDED.pricing_type,
    pricing_model = EXCLUDED.pricing_model, billable = EXCLUDED.billable,
    delivered = EXCLUDED.delivered, charged = EXCLUDED.charged, recorded_at = now()
WHERE NOT c.delivered
RETURNING c.delivered, (SELECT delivered FROM before) AS was
"""

_RECORD_MANY = """
WITH c AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::text[], $7::text[], $8::bool[], $9::bool[], $10::bool[],
                         $11::timestamptz[])
           AS c (wamid, intent_id, phone_number_id, template, category, pricing_type,
                 pricing_model, billable, delivered, charged, priced_at)
), before AS (SELECT wamid, delivered FROM dispatch_charges WHERE wamid IN (SELECT wamid FROM c))
INSERT INTO dispatch_charges AS d (wamid, intent_id, phone_number_id, template, category,
                                   pricing_type, pricing_model, billable, delivered, charged,
                                   priced_at)
SELECT * FROM c
ON CONFLICT (wamid) DO UPDATE SET
    category = EXCLUDED.category, pricing_type = EXCLUDED.pricing_type,
    pricing_model = EXCLUDED.pricing_model, billable = EXCLUDED.billable,
    delivered = EXCLUDED.delivered, charged = EXCLUDED.charged, recorded_at = now()
WHERE NOT d.delivered
RETURNING d.wamid, d.delivered, (SELECT b.delivered FROM before b WHERE b.wamid = d.wamid) AS was
"""
"""`_RECORD` for several wamids, each once."""

_SPEND = """
SELECT phone_number_id, template, category, pricing_type AS type,
       count(*) AS messages,
       count(*) FILTER (WHERE delivered) AS delivered,
       count(*) FILTER (WHERE charged) AS charged
FROM dispatch_charges
WHERE ($1::timestamptz IS NULL OR priced_at >= $1)
  AND ($2::timestamptz IS NULL OR priced_at < $2)
GROUP BY phone_number_id, template, category, pricing_type
ORDER BY phone_number_id, template, category, pricing_type
"""


_FIELDS = ("wamid", "intent_id", "phone_number_id", "template", "category", "pricing_type",
           "pricing_model", "billable", "delivered")  # fmt: skip


class PostgresCharges:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, charge: Charge) -> bool:
        c = charge
        with reachable("charges", LedgerUnavailable):
            row = await self._pool.fetchrow(
                _RECORD, c.wamid, c.intent_id, c.phone_number_id, c.template, c.category,
                c.pricing_type, c.pricing_model, c.billable, c.delivered, c.charged, c.at,
            )  # fmt: skip
        return row is not None and bool(row["delivered"]) and row["was"] is not True

    async def record_many(self, charges: Sequence[Charge]) -> list[bool]:
        assert len({c.wamid for c in charges}) == len(charges), "a wamid twice"
        columns = [[getattr(c, name) for c in charges] for name in _FIELDS]
        columns.append([c.charged for c in charges])
        columns.append([c.at for c in charges])
        with reachable("charges", LedgerUnavailable):
            rows = await self._pool.fetch(_RECORD_MANY, *columns)
        counted = {r["wamid"] for r in rows if r["delivered"] and r["was"] is not True}
        return [c.wamid in counted for c in charges]

    async def spend(self, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        with reachable("charges", LedgerUnavailable):
            rows = await self._pool.fetch(_SPEND, since, until)
        return [dict(row) for row in rows]
