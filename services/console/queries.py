"""The console's SQL for reading: search, an intent's facts, a customer's, templates,
numbers, dead letters and a chat. Rows come back as plain dicts for the pure modules."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.console import statements
from services.console.errors import StoreUnavailable
from services.console.projection import customer_of
from services.console.store import STORE
from shared.db import reachable

Row = dict[str, Any]
JSON_FIELDS = ("metadata", "body", "window_seen", "intent", "errors", "pricing_json", "details",
               "headers")  # fmt: skip


_INTENT_FACTS = {
    "intents": "SELECT * FROM console_intents",
    "decisions": "SELECT * FROM console_decisions",
    "deliveries": "SELECT *, pricing AS pricing_json FROM console_deliveries",
    "dead_letters": "SELECT * FROM console_dead_letters",
}


def _row(record: asyncpg.Record) -> Row:
    row = dict(record)
    for name in JSON_FIELDS:
        if isinstance(row.get(name), str):
            row[name] = json.loads(row[name])
    return row


class Queries:
    def __init__(self, pool: asyncpg.Pool, page_size: int = 50) -> None:
        self._pool = pool
        self.page_size = page_size

    async def _fetch(self, sql: str, *args: Any) -> list[Row]:
        with reachable(STORE, StoreUnavailable):
            return [_row(r) for r in await self._pool.fetch(sql, *args)]

    async def _one(self, sql: str, *args: Any) -> Row | None:
        rows = await self._fetch(sql, *args)
        return rows[0] if rows else None

    async def _summaries(self, where: str, *args: Any) -> list[Row]:
        limit = self.page_size * 4  # a few records per intent at most, then distinct
        found = statements.FIRST_OF_EACH.format(where=where, limit=limit)
        sql = statements.SUMMARY.format(found=found) + f" LIMIT {self.page_size}"
        return await self._fetch(sql, *args)

    async def recent(self) -> list[Row]:
        return await self._summaries("true")

    async def linked(self, *seeds: str) -> list[str]:
        """Every identifier of the customer(s) the seeds name: phones, BSUIDs and parent
        BSUIDs linked by an inbound message or an identity change, however many links away."""
        rows = await self._fetch(statements.LINKED, list(seeds))
        return sorted({r["identifier"] for r in rows if r["identifier"]})

    async def search(self, query: str) -> tuple[list[Row], list[Row]]:
        """Intents whose id, business number, customer (by any of its identifiers) or a
        metadata value is `query`, and the customer it names (by any identifier or name):
        one entry per customer, its phone's when it has one."""
        names = await self.linked(query, customer_of(query)[0])
        intents = await self._summaries(
            "intent_id = $1 OR phone_number_id = $1 OR customer = ANY($2::text[])"
            " OR metadata_values @> ARRAY[$1]::text[]",
            query,
            names,
        )
        customers = await self._fetch(
            "SELECT id, customer FROM console_customers WHERE customer = ANY($1::text[])"
            " ORDER BY customer !~ '^[0-9]+$', id LIMIT 1",
            names,
        )
        customers += await self._fetch(
            "SELECT DISTINCT c.id, c.customer FROM console_identities i"
            " JOIN console_customers c ON c.customer = i.customer"
            " WHERE i.kind IN ('name', 'username') AND lower(i.identifier) = lower($1)"
            " AND NOT c.customer = ANY($2::text[]) ORDER BY c.id LIMIT 50",
            query,
            names,
        )
        return intents, customers

    async def intent(self, intent_id: str) -> dict[str, list[Row]]:
        """Every fact about one intent, each list oldest first."""
        facts: dict[str, list[Row]] = {}
        for name, select in _INTENT_FACTS.items():
            sql = f"{select} WHERE intent_id = $1 ORDER BY occurred_at"
            facts[name] = await self._fetch(sql, intent_id)
        return facts

    async def version(self, intent_id: str) -> tuple[int, ...]:
        """Changes when anything is added about the intent (for its live view)."""
        row = await self._one(
            "SELECT (SELECT count(*) FROM console_intents WHERE intent_id = $1) AS a,"
            " (SELECT count(*) FROM console_decisions WHERE intent_id = $1) AS b,"
            " (SELECT count(*) FROM console_deliveries WHERE intent_id = $1) AS c,"
            " (SELECT count(*) FROM console_dead_letters WHERE intent_id = $1) AS d",
            intent_id,
        )
        return tuple(row.values()) if row else ()

    async def customer_id(self, customer: str) -> int | None:
        row = await self._one("SELECT id FROM console_customers WHERE customer = $1", customer)
        return int(row["id"]) if row else None

    async def consent_at(self, customer: str, number: str, at: datetime) -> list[Row]:
        """The latest consent per category on record for a customer at a time."""
        return await self._fetch(
            "SELECT DISTINCT ON (category) * FROM console_consent WHERE customer = $1"
            " AND phone_number_id = $2 AND occurred_at <= $3 ORDER BY category, occurred_at DESC",
            customer,
            number,
            at,
        )

    async def customer(self, customer_id: int, now: datetime) -> dict[str, Any] | None:
        """A customer's facts under every identifier linked to it."""
        head = await self._one("SELECT * FROM console_customers WHERE id = $1", customer_id)
        if head is None:
            return None
        names = await self.linked(head["customer"])
        day, week = now - timedelta(days=1), now - timedelta(days=7)
        usage = await self._one(
            "SELECT count(*) FILTER (WHERE occurred_at >= $2) AS day,"
            " count(*) FILTER (WHERE occurred_at >= $3) AS week FROM console_decisions"
            " WHERE customer = ANY($1::text[]) AND outcome = 'approved'"
            " AND pricing = 'marketing'",
            names,
            day,
            week,
        )
        return {
            "customer": head,
            "identities": await self._fetch(
                "SELECT identifier, min(kind) AS kind, min(first_seen) AS first_seen,"
                " max(last_seen) AS last_seen, min(source) AS source FROM console_identities"
                " WHERE customer = ANY($1::text[]) GROUP BY identifier"
                " ORDER BY min(kind), min(first_seen)",
                names,
            ),
            "windows": await self._fetch(
                "SELECT DISTINCT ON (w.phone_number_id) w.*, m.message_type AS opened_by,"
                " m.message_id AS opened_by_id FROM console_windows w"
                " LEFT JOIN console_inbound m ON m.customer = w.customer"
                " AND m.phone_number_id = w.phone_number_id"
                " AND m.sent_at = w.last_customer_message_at"
                " WHERE w.customer = ANY($1::text[])"
                " ORDER BY w.phone_number_id, w.occurred_at DESC",
                names,
            ),
            "consent": await self._fetch(
                "SELECT * FROM console_consent WHERE customer = ANY($1::text[])"
                " ORDER BY category, phone_number_id, occurred_at",
                names,
            ),
            "marketing": usage or {"day": 0, "week": 0},
            "intents": await self._summaries("customer = ANY($1::text[])", names),
            "numbers": [
                r["phone_number_id"]
                for r in await self._fetch(
                    "SELECT DISTINCT phone_number_id FROM console_intents"
                    " WHERE customer = ANY($1::text[]) UNION SELECT DISTINCT phone_number_id"
                    " FROM console_inbound WHERE customer = ANY($1::text[]) ORDER BY 1",
                    names,
                )
            ],
        }

    async def templates(self) -> list[Row]:
        """Every template-language in its latest state, with how many intents named it."""
        return await self._fetch(
            "SELECT s.*, (SELECT count(*) FROM console_intents i WHERE i.template_name = s.name"
            " AND i.template_language = s.language) AS intents FROM ("
            " SELECT DISTINCT ON (waba_id, name, language) * FROM console_template_states"
            " ORDER BY waba_id, name, language, version DESC, occurred_at DESC) s"
            " ORDER BY s.name, s.language, s.waba_id"
        )

    async def template(self, waba_id: str, name: str, language: str) -> dict[str, list[Row]]:
        """A template-language's history, the intents that named it, and their decisions and
        updates that cite a template reason (`template_effects` tells which change caused
        each)."""
        return {
            "history": await self._fetch(
                "SELECT * FROM console_template_states WHERE waba_id = $1 AND name = $2"
                " AND language = $3 ORDER BY version, occurred_at",
                waba_id,
                name,
                language,
            ),
            "intents": await self._summaries(
                "template_name = $1 AND template_language = $2", name, language
            ),
            "outcomes": await self._fetch(
                statements.TEMPLATE_OUTCOMES, name, language, self.page_size * 4
            ),
        }

    async def template_keys(self, name: str, language: str) -> list[Row]:
        return await self._fetch(
            "SELECT DISTINCT waba_id, name, language FROM console_template_states"
            " WHERE name = $1 AND language = $2 ORDER BY waba_id",
            name,
            language,
        )

    async def numbers(self, now: datetime) -> dict[str, list[Row]]:
        since = now - timedelta(days=1)
        return {
            "numbers": await self._fetch(statements.NUMBERS, since),
            "accounts": await self._fetch(
                "SELECT DISTINCT ON (waba_id, field, event, display_phone_number) *"
                " FROM console_account_updates"
                " ORDER BY waba_id, field, event, display_phone_number, occurred_at DESC"
            ),
        }

    async def dead_letters(self) -> list[Row]:
        return await self._fetch(
            'SELECT * FROM console_dead_letters ORDER BY occurred_at DESC, "offset" DESC LIMIT $1',
            self.page_size,
        )

    async def dead_letter(self, topic: str, partition: int, offset: int) -> Row | None:
        return await self._one(
            "SELECT * FROM console_dead_letters WHERE topic = $1 AND partition = $2"
            ' AND "offset" = $3',
            topic,
            partition,
            offset,
        )

    async def chat(self, customer: str, number: str) -> list[Row]:
        """What the customer wrote and what the business sent them, oldest first."""
        return await self._fetch(statements.CHAT, customer, number, self.page_size)
