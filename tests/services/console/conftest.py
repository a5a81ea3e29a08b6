"""The console over a real PostgreSQL: its read model filled with one story, and its web app
on a test server (no Kafka: redrive and chat have their own tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from services.console import pages
from services.console.app import MIGRATIONS, build_web
from services.console.metrics import ConsoleMetrics
from services.console.queries import Queries
from services.console.settings import ConsoleSettings, TokenSetting
from services.console.store import ReadModelStore
from shared import db, http
from shared.metrics import new_registry
from shared.settings import PostgresSettings
from tests.services.console import facts

OPERATOR = "operator-token-0123456789"
VIEWER = "viewer-token-0123456789ab"
DEAD_LETTERS = "wagate.deadletter.v1"


def settings(**changes: Any) -> ConsoleSettings:
    return ConsoleSettings(
        tokens=[
            TokenSetting(name="olga", token=SecretStr(OPERATOR), role="operator"),  # type: ignore[arg-type]
            TokenSetting(name="vic", token=SecretStr(VIEWER), role="viewer"),  # type: ignore[arg-type]
        ],
        live_interval_s=0.05,
        sandbox_url="",
        **changes,
    )


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(PostgresSettings(url=SecretStr(fresh_database)))
    await db.migrate(pool, "console", MIGRATIONS)
    yield pool
    await pool.close()


@dataclass
class Console:
    client: TestClient[Any, Any]
    store: ReadModelStore
    queries: Queries
    metrics: ConsoleMetrics

    async def get(self, path: str, token: str | None = OPERATOR, **kw: Any) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update(kw.pop("headers", {}))
        async with self.client.get(path, headers=headers, allow_redirects=False, **kw) as resp:
            return resp.status, await resp.text()


async def console_on(pool: asyncpg.Pool, **changes: Any) -> tuple[Console, TestServer]:
    registry = new_registry()
    metrics = ConsoleMetrics(registry)
    store = ReadModelStore(pool)
    queries = Queries(pool)
    console = pages.Console(queries, store, None, None, lambda: facts.at(3600))
    readiness = http.Readiness({"postgres": True})
    configured = settings(**changes)
    app = build_web(configured, configured.token_list, console, metrics, readiness, registry)
    server = TestServer(app)
    client = TestClient(server)
    await client.start_server()
    return Console(client, store, queries, metrics), server


@pytest.fixture
async def console(pool: asyncpg.Pool) -> AsyncIterator[Console]:
    found, _ = await console_on(pool)
    await found.store.write(
        facts.batch_of(
            [*facts.story(), facts.otp()],
            [
                facts.dead_intent_record(
                    DEAD_LETTERS, facts.otp("dead-1"), source="wagate.intents.v1"
                )
            ],
        )
    )
    yield found
    await found.client.close()
