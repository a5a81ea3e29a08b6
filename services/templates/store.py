"""Templates' SQL: one row per template-language, a history row for every change."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

import asyncpg

from services.templates.errors import StoreUnavailable, TemplateExists
from services.templates.records import Key, TemplateRecord
from shared.db import reachable

COLUMNS = (
    "category",
    "parameter_format",
    "components",
    "meta_id",
    "status",
    "quality",
    "rejected_reason",
    "message_send_ttl_seconds",
    "warnings",
    "version",
    "last_error",
    "correct_category",
    "status_reported_at",
)
JSON_COLUMNS = ("components", "warnings")
FILTERS = ("waba_id", "name", "language", "category", "status")
STORE = "template store"


def _record(row: asyncpg.Record) -> TemplateRecord:
    values = dict(row)
    values.pop("published_version", None)
    for column in JSON_COLUMNS:
        values[column] = json.loads(values[column])
    return TemplateRecord(**values)


def _snapshot(record: TemplateRecord) -> str:
    return json.dumps(asdict(record), default=str)


class TemplateStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def insert(self, record: TemplateRecord, cause: str) -> TemplateRecord:
        """Store a new template-language; a deleted one of the same key is replaced."""
        params = [*record.key, *(_param(c, getattr(record, c)) for c in COLUMNS)]
        holders = ", ".join(f"${i}" for i in range(1, len(params) + 1))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "version")
        sql = f"""
            INSERT INTO templates (waba_id, name, language, {", ".join(COLUMNS)})
            VALUES ({holders})
            ON CONFLICT (waba_id, name, language) DO UPDATE
               SET {updates}, version = templates.version + 1, created_at = now(),
                   updated_at = now()
             WHERE templates.status = 'DELETED'
            RETURNING *"""  # noqa: S608 - column names are constants
        with reachable(STORE, StoreUnavailable):
            async with self._pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(sql, *params)
                if row is None:
                    raise TemplateExists(f"{record.key} already exists")
                stored = _record(row)
                await _history(conn, stored, "created", cause)
        return stored

    async def get(self, key: Key) -> TemplateRecord | None:
        row = await self._fetchrow(
            "SELECT * FROM templates WHERE waba_id = $1 AND name = $2 AND language = $3", *key
        )
        return _record(row) if row else None

    async def by_meta_id(self, meta_id: str) -> TemplateRecord | None:
        row = await self._fetchrow("SELECT * FROM templates WHERE meta_id = $1", meta_id)
        return _record(row) if row else None

    async def find(
        self, filters: Mapping[str, str] | None = None, limit: int = 100, offset: int = 0
    ) -> list[TemplateRecord]:
        """Templates matching every filter (waba_id, name, language, category, status)."""
        filters = {k: v for k, v in (filters or {}).items() if k in FILTERS}
        clauses = [f"{k} = ${i}" for i, k in enumerate(filters, start=1)]
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        n = len(clauses)
        sql = (
            f"SELECT * FROM templates {where} ORDER BY waba_id, name, language"  # noqa: S608
            f" LIMIT ${n + 1} OFFSET ${n + 2}"
        )
        rows = await self._fetch(sql, *filters.values(), limit, offset)
        return [_record(r) for r in rows]

    async def wabas(self) -> list[str]:
        rows = await self._fetch("SELECT DISTINCT waba_id FROM templates ORDER BY waba_id")
        return [r["waba_id"] for r in rows]

    async def change(
        self,
        key: Key,
        decide: Callable[[TemplateRecord], dict[str, Any]],
        change: str,
        cause: str,
    ) -> tuple[TemplateRecord | None, bool]:
        """Apply the changes `decide` returns for the current row, under a row lock.

        Returns (row after, changed); nothing is written when `decide` returns no change.
        """
        with reachable(STORE, StoreUnavailable):
            async with self._pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    "SELECT * FROM templates WHERE waba_id = $1 AND name = $2 AND language = $3"
                    " FOR UPDATE",
                    *key,
                )
                if row is None:
                    return None, False
                current = _record(row)
                changes = {k: v for k, v in decide(current).items() if getattr(current, k) != v}
                if not changes:
                    return current, False
                after = replace(current, **changes, version=current.version + 1)
                sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(COLUMNS, start=4))
                row = await conn.fetchrow(
                    f"UPDATE templates SET {sets}, updated_at = now()"  # noqa: S608
                    " WHERE waba_id = $1 AND name = $2 AND language = $3 RETURNING *",
                    *key,
                    *(_param(c, getattr(after, c)) for c in COLUMNS),
                )
                stored = _record(row)
                await _history(conn, stored, change, cause)
        return stored, True

    async def history(self, key: Key) -> list[dict[str, Any]]:
        rows = await self._fetch(
            "SELECT change, version, cause, snapshot, changed_at FROM template_history"
            " WHERE waba_id = $1 AND name = $2 AND language = $3 ORDER BY id",
            *key,
        )
        return [
            {
                "change": r["change"],
                "version": r["version"],
                "cause": r["cause"],
                "snapshot": json.loads(r["snapshot"]),
                "changed_at": r["changed_at"].isoformat(),
            }
            for r in rows
        ]

    async def count_changes(self, key: Key, change: str, since: datetime) -> int:
        row = await self._fetchrow(
            "SELECT count(*) AS n FROM template_history WHERE waba_id = $1 AND name = $2"
            " AND language = $3 AND change = $4 AND changed_at >= $5",
            *key,
            change,
            since,
        )
        return int(row["n"]) if row else 0

    async def mark_published(self, key: Key, version: int) -> None:
        await self._fetchrow(
            "UPDATE templates SET published_version = GREATEST(published_version, $4)"
            " WHERE waba_id = $1 AND name = $2 AND language = $3",
            *key,
            version,
        )

    async def unpublished(self, limit: int = 500) -> list[TemplateRecord]:
        rows = await self._fetch(
            "SELECT * FROM templates WHERE published_version < version"
            " ORDER BY updated_at LIMIT $1",
            limit,
        )
        return [_record(r) for r in rows]

    async def drafts_failed_with(self, prefix: str, limit: int = 100) -> list[TemplateRecord]:
        rows = await self._fetch(
            "SELECT * FROM templates WHERE status = 'DRAFT' AND starts_with(last_error, $1)"
            " ORDER BY updated_at LIMIT $2",
            prefix,
            limit,
        )
        return [_record(r) for r in rows]

    async def count_created(self, waba_id: str, since: datetime) -> int:
        row = await self._fetchrow(
            "SELECT count(*) AS n FROM template_history WHERE waba_id = $1 AND change = 'created'"
            " AND changed_at >= $2",
            waba_id,
            since,
        )
        return int(row["n"]) if row else 0

    async def fallbacks(self, waba_id: str, name: str) -> tuple[str, ...]:
        row = await self._fetchrow(
            "SELECT languages FROM template_fallbacks WHERE waba_id = $1 AND name = $2",
            waba_id,
            name,
        )
        return tuple(row["languages"]) if row else ()

    async def set_fallbacks(self, waba_id: str, name: str, languages: Sequence[str]) -> None:
        await self._fetchrow(
            "INSERT INTO template_fallbacks (waba_id, name, languages) VALUES ($1, $2, $3)"
            " ON CONFLICT (waba_id, name) DO UPDATE SET languages = EXCLUDED.languages,"
            " updated_at = now()",
            waba_id,
            name,
            list(languages),
        )

    async def _fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        with reachable(STORE, StoreUnavailable):
            row: asyncpg.Record | None = await self._pool.fetchrow(sql, *args)
        return row

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        with reachable(STORE, StoreUnavailable):
            rows: list[asyncpg.Record] = await self._pool.fetch(sql, *args)
        return rows


def _param(column: str, value: Any) -> Any:
    return json.dumps(value) if column in JSON_COLUMNS else value


async def _history(conn: Any, record: TemplateRecord, change: str, cause: str) -> None:
    await conn.execute(
        "INSERT INTO template_history (waba_id, name, language, change, snapshot, version, cause)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
        *record.key,
        change,
        _snapshot(record),
        record.version,
        cause,
    )
