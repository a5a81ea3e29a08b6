"""Generated requests against every write route of the API on a real PostgreSQL: no answer
is a 5xx, and every answer is one the OpenAPI document describes."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.services.templates.conftest import BODY_ROUTES, KEY, WABA, Service, shipping
from tests.services.templates.openapi_check import assert_documented
from tests.services.templates.strategies import JSON, TEMPLATE, mutated

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]
WHERE = {"waba_id": WABA, "name": "shipping_update", "language": "en_US"}
BODIES = (
    JSON
    | TEMPLATE
    | mutated().map(lambda t: {**t, "waba_id": WABA})
    | st.fixed_dictionaries({"parameters": JSON})
    | st.fixed_dictionaries({"languages": JSON})
)


async def _send(base: str, method: str, path: str, body: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            base + path.format(**WHERE),
            json=body,
            headers={"Authorization": f"Bearer {KEY}"},
        ) as resp,
    ):
        return resp.status, await resp.json()


async def test_generated_requests_never_get_a_5xx(service: Service) -> None:
    await service.call("POST", "/v1/templates", shipping())
    base = str(service.client.make_url("")).rstrip("/")
    seen: set[int] = set()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(BODY_ROUTES), BODIES)
    def probe(route: tuple[str, str], body: Any) -> None:
        method, path = route
        status, answer = asyncio.run(_send(base, method, path, body))
        assert status < 500, (method, path, body, answer)
        assert_documented(method, path, status, answer)
        seen.add(status)

    with ThreadPoolExecutor(1) as pool:
        await asyncio.get_running_loop().run_in_executor(pool, probe)
    assert {200, 400, 422} <= seen
