"""The templates API served as in production (`shared.http.serving`), with 200 slow
connections open against it (headers a byte at a time, bodies a byte at a time): a business
system's request is still answered promptly, and the slow clients are cut off."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from shared import http
from shared.metrics import new_registry
from shared.settings import HttpSettings
from tests.conftest import free_port
from tests.services.templates.conftest import KEY, shipping, templates_api
from tests.shared.slow_clients import holding, settled, slow_body, slow_headers

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(90)]
SLOW = 200
SIGNED_IN = f"Authorization: Bearer {KEY}\r\n".encode()  # past the key check, to the body


async def _validate(url: str) -> tuple[int, float]:
    """A business system checks a template (`POST /v1/templates/validate`)."""
    started = time.monotonic()
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as session,
        session.post(f"{url}/v1/templates/validate", data=json.dumps(shipping())) as resp,
    ):
        await resp.read()
        return resp.status, time.monotonic() - started


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param({}, id="default-limits"),
        pytest.param({"max_connections": 50}, id="ceiling-below-the-slow-clients"),
    ],
)
async def test_a_request_is_answered_promptly_while_200_slow_clients_hold_connections(
    fresh_database: str, limits: dict[str, Any]
) -> None:
    port = free_port()
    registry = new_registry()
    app = http.base_app(http.Readiness({"ok": True}), registry)
    path = b"/v1/templates/validate"
    async with (
        templates_api(fresh_database, app),
        http.serving(app, HttpSettings(port=port, **limits), "templates") as url,
    ):
        slow = [slow_headers(port) for _ in range(SLOW // 2)]
        slow += [slow_body(port, path=path, headers=SIGNED_IN) for _ in range(SLOW // 2)]
        async with holding(slow):
            await settled(registry, "templates", min(SLOW, limits.get("max_connections", SLOW)))
            answers = [await _validate(url) for _ in range(3)]

    assert [status for status, _ in answers] == [200, 200, 200]
    assert max(seconds for _, seconds in answers) < 1.0, answers
    assert all(not c.answer.startswith(b"HTTP/1.1 200") for c in slow)


async def test_slow_clients_are_cut_off_with_408_and_counted(fresh_database: str) -> None:
    port = free_port()
    registry = new_registry()
    app = http.base_app(http.Readiness({"ok": True}), registry)
    limits = HttpSettings(port=port, header_timeout_s=0.5, body_timeout_s=0.5)
    async with templates_api(fresh_database, app), http.serving(app, limits, "templates") as url:
        slow = [slow_headers(port, steps=80) for _ in range(SLOW // 2)]
        slow += [
            slow_body(port, steps=80, path=b"/v1/templates", headers=SIGNED_IN)
            for _ in range(SLOW // 2)
        ]
        async with holding(slow):
            started = time.monotonic()
            while time.monotonic() - started < 10 and not all(c.closed_by_server for c in slow):
                await asyncio.sleep(0.1)
            assert (await _validate(url))[0] == 200

    assert sum(c.answer.startswith(b"HTTP/1.1 408") for c in slow) == SLOW
    refused = {
        reason: registry.get_sample_value("wagate_templates_http_refused_total", {"reason": reason})
        for reason in ("header_timeout", "body_timeout")
    }
    assert refused == {"header_timeout": SLOW // 2, "body_timeout": SLOW // 2}


async def test_a_body_is_read_only_once_the_api_key_is_accepted(fresh_database: str) -> None:
    port = free_port()
    registry = new_registry()
    app = http.base_app(http.Readiness({"ok": True}), registry)
    async with templates_api(fresh_database, app), http.serving(app, HttpSettings(port=port), "t"):
        slow = [slow_body(port, path=b"/v1/templates") for _ in range(20)]  # no key
        async with holding(slow):
            started = time.monotonic()
            while time.monotonic() - started < 5 and not all(c.answer for c in slow):
                await asyncio.sleep(0.1)
            answers = [c.answer for c in slow]
            waited = time.monotonic() - started

    assert all(a.startswith(b"HTTP/1.1 401") for a in answers), answers[:2]
    assert waited < 5  # long before the 30 s a body may take
