"""Ingest's composition root on real servers: it migrates, expires old dedupe keys at start,
becomes ready, takes a webhook, and stops cleanly."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import asyncpg
import pytest
from pydantic import SecretStr

from services.ingest.app import MIGRATIONS, run
from services.ingest.settings import IngestSettings
from shared import db
from shared.settings import HttpSettings, KafkaSettings, PostgresSettings
from shared.topics import INBOUND_MESSAGES
from shared.webhook_signature import HEADER, sign
from tests.conftest import free_port
from tests.services.ingest.topics import read_all

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def _seed_old_key(database_url: str) -> None:
    pool = await db.create_pool(PostgresSettings(url=database_url, max_size=1))
    try:
        await db.migrate(pool, "ingest", MIGRATIONS)
        await pool.execute(
            "INSERT INTO ingest_seen_events (event_id, claimed_at, done)"
            " VALUES ('ancient', now() - interval '30 days', true)"
        )
    finally:
        await pool.close()


async def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{url}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail("ingest never became ready")


async def test_ingest_runs_expires_takes_a_webhook_and_stops(
    kafka_settings: KafkaSettings, fresh_database: str
) -> None:
    await _seed_old_key(fresh_database)
    settings = IngestSettings(
        http=HttpSettings(port=free_port()),
        kafka=kafka_settings,
        postgres=PostgresSettings(url=fresh_database, max_size=2),
        app_secrets=[SecretStr("s")],
    )
    url = f"http://127.0.0.1:{settings.http.port}"
    body = json.dumps(
        {
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": {"phone_number_id": "106540352242922"},
                                "messages": [
                                    {
                                        "from": "16505551234",
                                        "id": "wamid.app",
                                        "timestamp": "1749416383",
                                        "type": "text",
                                        "text": {"body": "hi"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ]
        }
    ).encode()
    stop = asyncio.Event()
    service = asyncio.create_task(run(settings, stop))
    try:
        await _wait_ready(url)
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{url}/webhook", data=body, headers={HEADER: sign(body, "s")}) as resp,
        ):
            assert (resp.status, await resp.text()) == (200, "ok")
    finally:
        stop.set()
        await asyncio.wait_for(service, 30)

    conn = await asyncpg.connect(fresh_database)
    try:
        ids = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM ingest_seen_events")}
    finally:
        await conn.close()
    assert "ancient" not in ids
    assert len(ids) == 2  # the journal record and the message
    assert [m["message_id"] for m in await read_all(kafka_settings, INBOUND_MESSAGES)] == [
        "wamid.app"
    ]
