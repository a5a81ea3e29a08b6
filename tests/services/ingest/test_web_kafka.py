"""Ingest's HTTP endpoint over real Kafka and PostgreSQL: what Meta is answered and what lands on
the topics, including redeliveries and a broker that cannot be reached."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import asyncpg
import pytest
from pydantic import SecretStr

from services.ingest.app import MIGRATIONS, make_journal_producer
from services.ingest.handlers import WebhookIntake
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from services.ingest.store import SeenEvents
from services.ingest.web import INTAKE, add_routes
from shared import db, http
from shared.messaging import Publisher
from shared.metrics import new_registry
from shared.settings import HttpSettings, KafkaSettings, PostgresSettings
from shared.topics import INBOUND_MESSAGES, STATUSES, WEBHOOKS_RAW
from shared.webhook_signature import HEADER, sign
from tests.conftest import free_port
from tests.services.ingest.topics import read_all

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
SECRET = "app-secret"
PNID = "106540352242922"


def _body(*wamids: str, text: str = "Is my order shipped?") -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PNID},
        "messages": [
            {"from": "16505551234", "id": w, "timestamp": "1749416383", "type": "text",
             "text": {"body": text}}
            for w in wamids
        ],
        "statuses": [{"id": "wamid.out", "status": "delivered", "timestamp": "1750263773",
                      "recipient_id": "16505551234"}],
    }  # fmt: skip
    entry = {"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


Post = Callable[..., Any]


@asynccontextmanager
async def ingest(
    kafka: KafkaSettings, database_url: str, **overrides: Any
) -> AsyncIterator[tuple[str, IngestSettings]]:
    """Ingest's app with a real producer and dedupe store; yields its base URL."""
    settings = IngestSettings(
        app_secrets=[SecretStr("previous-secret"), SecretStr(SECRET)],
        http=HttpSettings(port=free_port()),
        kafka=kafka,
        postgres=PostgresSettings(url=database_url, max_size=2),
        **overrides,
    )
    async with AsyncExitStack() as stack:
        pool = await db.create_pool(settings.postgres)
        stack.push_async_callback(pool.close)
        await db.migrate(pool, "ingest", MIGRATIONS)
        producer = make_journal_producer(settings)
        stack.push_async_callback(producer.stop)
        if not kafka.bootstrap.endswith(":1"):
            await producer.start()
        registry = new_registry()
        app = http.base_app(http.Readiness({"ok": True}), registry, settings.max_body_bytes)
        app[INTAKE] = WebhookIntake(
            settings, Publisher(producer, kafka), SeenEvents(pool, 60), IngestMetrics(registry)
        )
        add_routes(app)
        url = await stack.enter_async_context(http.serving(app, settings.http, "ingest"))
        yield url, settings


async def _post(url: str, body: bytes, signature: str | None = "sign") -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[HEADER] = sign(body, SECRET) if signature == "sign" else signature
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/webhook", data=io.BytesIO(body), headers=headers) as resp,
    ):
        return resp.status, await resp.text()


async def test_a_webhook_lands_on_the_topics_once_even_when_redelivered(
    kafka_settings: KafkaSettings, fresh_database: str
) -> None:
    body = _body("wamid.a", "wamid.b")
    async with ingest(kafka_settings, fresh_database) as (url, _):
        assert await _post(url, body) == (200, "ok")
        assert await _post(url, body) == (200, "ok")
    async with ingest(kafka_settings, fresh_database) as (url, _):  # after a restart
        assert await _post(url, body) == (200, "ok")

    journal = await read_all(kafka_settings, WEBHOOKS_RAW)
    inbound = await read_all(kafka_settings, INBOUND_MESSAGES)
    statuses = await read_all(kafka_settings, STATUSES)
    assert [j["body"] for j in journal] == [body.decode()]
    assert journal[0]["_key"] == PNID
    assert sorted(m["message_id"] for m in inbound) == ["wamid.a", "wamid.b"]
    assert {m["_key"] for m in inbound} == {f"{PNID}:16505551234"}
    assert [s["status"] for s in statuses] == ["delivered"]


async def test_requests_that_are_refused(
    kafka_settings: KafkaSettings, fresh_database: str
) -> None:
    async with ingest(kafka_settings, fresh_database, max_body_bytes=2048) as (url, _):
        assert (await _post(url, _body("wamid.a"), signature=None))[0] == 401
        assert (await _post(url, _body("wamid.a"), sign(_body("x"), SECRET)))[0] == 401
        assert (await _post(url, b"{truncated"))[0] == 400
        assert (await _post(url, b"\xc3\x28"))[0] == 400
        assert (await _post(url, b"{" + b" " * 4096 + b"}"))[0] == 413
        async with aiohttp.ClientSession() as session:
            query = {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "7"}
            async with session.get(f"{url}/webhook", params=query) as resp:
                assert resp.status == 403
            query["hub.verify_token"] = "wagate-verify-token"
            async with session.get(f"{url}/webhook", params=query) as resp:
                assert (resp.status, await resp.text()) == (200, "7")
            async with session.get(f"{url}/metrics") as resp:
                metrics = await resp.text()

    assert 'wagate_ingest_signature_failures_total{reason="missing"} 1.0' in metrics
    assert 'wagate_ingest_signature_failures_total{reason="mismatch"} 1.0' in metrics
    assert 'wagate_ingest_webhooks_total{outcome="not_json"} 2.0' in metrics
    assert 'wagate_ingest_http_refused_total{reason="too_large"} 1.0' in metrics
    assert await read_all(kafka_settings, WEBHOOKS_RAW) == []


async def test_kafka_down_is_503_then_the_retry_loses_nothing(
    kafka_settings: KafkaSettings, fresh_database: str
) -> None:
    body = _body("wamid.a", "wamid.b")
    dead = kafka_settings.model_copy(update={"bootstrap": "127.0.0.1:1"})
    async with ingest(dead, fresh_database, publish_timeout_s=1.0) as (url, _):
        assert await _post(url, body) == (503, "temporarily unavailable")
    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM ingest_seen_events") == 0
    finally:
        await conn.close()

    async with ingest(kafka_settings, fresh_database) as (url, _):
        assert await _post(url, body) == (200, "ok")

    assert len(await read_all(kafka_settings, WEBHOOKS_RAW)) == 1
    inbound = await read_all(kafka_settings, INBOUND_MESSAGES)
    assert sorted(m["message_id"] for m in inbound) == ["wamid.a", "wamid.b"]
    assert len(await read_all(kafka_settings, STATUSES)) == 1


async def test_a_body_as_large_as_meta_sends_is_journaled_whole(
    kafka_settings: KafkaSettings, fresh_database: str
) -> None:
    body = _body(*(f"wamid.{i:04d}" for i in range(1000)), text="x" * 2900)
    assert 2.9e6 < len(body) < 4 * 1024 * 1024

    async with ingest(kafka_settings, fresh_database) as (url, _):
        assert await _post(url, body) == (200, "ok")

    journal = await read_all(kafka_settings, WEBHOOKS_RAW)
    assert [len(j["body"]) for j in journal] == [len(body)]
    assert len(await read_all(kafka_settings, INBOUND_MESSAGES)) == 1000
