"""Ingest's webhook endpoint served as in production (`shared.http.serving`), with 200 slow
connections open against it (headers a byte at a time, bodies a byte at a time): Meta's valid
webhook is still answered promptly and published, and the slow clients are cut off."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from services.ingest.handlers import WebhookIntake
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from services.ingest.web import INTAKE, add_routes
from shared import http
from shared.metrics import new_registry
from shared.settings import HttpSettings
from shared.topics import INBOUND_MESSAGES, WEBHOOKS_RAW
from shared.webhook_signature import HEADER, sign
from tests.conftest import free_port
from tests.services.ingest.fakes import InMemoryDedupe, RecordingSink
from tests.shared.slow_clients import holding, settled, slow_body, slow_headers

SECRET = "app-secret"
SLOW = 200
WEBHOOK = {
    "object": "whatsapp_business_account",
    "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": [{"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRB",
                      "timestamp": str(int(datetime.now(UTC).timestamp())), "type": "text",
                      "text": {"body": "Does it come in another color?"}}],
    }}]}],
}  # fmt: skip


@asynccontextmanager
async def ingest(**limits: Any) -> AsyncIterator[tuple[str, int, RecordingSink, Any]]:
    port = free_port()
    settings = IngestSettings(
        app_secrets=[SecretStr(SECRET)], http=HttpSettings(port=port, **limits)
    )
    registry = new_registry()
    sink = RecordingSink()
    app = http.base_app(http.Readiness({"ok": True}), registry, settings.max_body_bytes)
    app[INTAKE] = WebhookIntake(settings, sink, InMemoryDedupe(), IngestMetrics(registry))
    add_routes(app)
    async with http.serving(app, settings.http, "ingest") as url:
        yield url, port, sink, registry


async def _webhook(url: str) -> tuple[int, float]:
    body = json.dumps(WEBHOOK).encode()
    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/webhook", data=body, headers={HEADER: sign(body, SECRET)}) as resp,
    ):
        await resp.read()
        return resp.status, time.monotonic() - started


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "limits",
    [
        pytest.param({}, id="default-limits"),
        pytest.param({"max_connections": 50}, id="ceiling-below-the-slow-clients"),
    ],
)
async def test_a_webhook_is_answered_promptly_while_200_slow_clients_hold_connections(
    limits: dict[str, Any],
) -> None:
    async with ingest(**limits) as (url, port, sink, registry):
        slow = [slow_headers(port) for _ in range(SLOW // 2)]
        slow += [slow_body(port) for _ in range(SLOW // 2)]
        async with holding(slow):
            await settled(registry, "ingest", min(SLOW, limits.get("max_connections", SLOW)))
            answers = [await _webhook(url) for _ in range(3)]

    assert [status for status, _ in answers] == [200, 200, 200]
    assert max(seconds for _, seconds in answers) < 1.0, answers
    assert sink.topics() == [WEBHOOKS_RAW.name, INBOUND_MESSAGES.name]
    assert all(not c.answer.startswith(b"HTTP/1.1 200") for c in slow)


@pytest.mark.timeout(60)
async def test_slow_clients_are_cut_off_and_their_places_freed() -> None:
    async with ingest(header_timeout_s=0.5, body_timeout_s=0.5) as (url, port, sink, registry):
        slow = [slow_headers(port, steps=80) for _ in range(SLOW // 2)]
        slow += [slow_body(port, steps=80) for _ in range(SLOW // 2)]
        async with holding(slow):
            started = time.monotonic()
            while time.monotonic() - started < 10 and not all(c.closed_by_server for c in slow):
                await asyncio.sleep(0.1)
            assert (await _webhook(url))[0] == 200

    assert all(c.closed_by_server for c in slow)
    assert sum(c.answer.startswith(b"HTTP/1.1 408") for c in slow) == SLOW
    refused = {
        reason: registry.get_sample_value("wagate_ingest_http_refused_total", {"reason": reason})
        for reason in ("header_timeout", "body_timeout")
    }
    assert refused == {"header_timeout": SLOW // 2, "body_timeout": SLOW // 2}
    assert registry.get_sample_value("wagate_ingest_http_open_connections") == 0
    assert sink.topics() == [WEBHOOKS_RAW.name, INBOUND_MESSAGES.name]
