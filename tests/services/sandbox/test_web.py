"""The Cloud API routes over HTTP: the bearer check, JSON bodies, the faults injected into calls
(5xx, throttling bursts, dropped connections, timeouts) and the metrics that count them."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from services.sandbox.faults import Faults
from tests.services.sandbox.conftest import (
    OTHER,
    PNID,
    TEMPLATES,
    StackFactory,
    customer_writes,
    open_window,
    set_faults,
    text_message,
)


async def test_a_wrong_token_gets_190(make_stack: StackFactory) -> None:
    stack = await make_stack()
    status, body = await stack.call("POST", f"/v24.0/{PNID}/messages", text_message(), auth=False)
    assert (status, body["error"]["code"]) == (401, 190)
    status, body = await stack.call("GET", TEMPLATES, auth=False)
    assert (status, body["error"]["code"]) == (401, 190)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/v24.0/{PNID}/messages"),
        ("POST", TEMPLATES),
        ("GET", TEMPLATES),
        ("DELETE", TEMPLATES),
        ("GET", "/v24.0/123456"),
        ("POST", "/v24.0/123456"),
        ("POST", "/v24.0/123456/unpause"),
    ],
)
async def test_every_cloud_api_route_needs_the_token(
    make_stack: StackFactory, method: str, path: str
) -> None:
    stack = await make_stack()
    status, body = await stack.call(method, path, {}, auth=False)
    assert (status, body["error"]["code"]) == (401, 190)
    status, _ = await stack.call("GET", "/_sandbox/violations", auth=False)
    assert status == 200  # the control API is the developer's, not Meta's


async def test_a_body_that_is_not_json_gets_100(make_stack: StackFactory) -> None:
    stack = await make_stack()
    async with stack.client.post(
        f"/v24.0/{PNID}/messages",
        data=b"{not json",
        headers={"Authorization": "Bearer sandbox-token"},
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == 100


async def test_server_errors_answer_500_and_send_nothing(make_stack: StackFactory) -> None:
    stack = await make_stack(faults=Faults(server_error_rate=1))
    status, body = await stack.send(text_message(body="Hi"))

    assert (status, body["error"]["code"]) == (500, 131000)
    assert stack.sandbox.world.sent == {}
    assert stack.sandbox.world.violations == []


async def test_unavailable_answers_503_with_131016_and_sends_nothing(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await open_window(stack)
    await set_faults(stack, unavailable_rate=1)
    status, body = await stack.send(text_message(body="Hi"))

    assert (status, body["error"]["code"]) == (503, 131016)
    assert body["error"]["message"] == "(#131016) Service unavailable"
    assert stack.sandbox.world.sent == {}
    assert stack.sandbox.world.violations == []


async def test_a_throttling_window_refuses_every_send_for_its_seconds(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await open_window(stack)
    await set_faults(stack, throttle_rate=1.0, throttle_window_s=0.4)
    refused = [await stack.send(text_message(body="Hi"))]
    stack.sandbox.board.faults = Faults(throttle_window_s=0.4)  # this window, then no more
    refused += [await stack.send(text_message(body="Hi")) for _ in range(7)]
    await asyncio.sleep(0.45)
    after = await stack.send(text_message(body="Hi"))

    assert [(s, b["error"]["code"]) for s, b in refused] == [(400, 130429)] * 8
    assert after[0] == 200
    assert stack.sandbox.world.violations == []
    assert len(stack.sandbox.world.sent) == 1


async def test_a_throttling_burst_refuses_that_many_sends_then_recovers(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await open_window(stack)
    await set_faults(stack, throttle_rate=1.0, throttle_burst=3)
    first = await stack.send(text_message(body="Hi"))
    stack.sandbox.board.faults = Faults(throttle_burst=3)  # no new bursts; this one goes on
    rest = [await stack.send(text_message(body="Hi")) for _ in range(3)]

    codes = [body["error"]["code"] if status != 200 else 200 for status, body in [first, *rest]]
    assert codes == [130429, 130429, 130429, 200]
    assert stack.sandbox.world.violations == []
    assert len(stack.sandbox.world.sent) == 1


async def test_a_dropped_connection_gets_no_answer(make_stack: StackFactory) -> None:
    stack = await make_stack(faults=Faults(drop_rate=1))
    with pytest.raises(aiohttp.ClientError):
        await stack.send(text_message(body="Hi"))
    assert stack.sandbox.world.sent == {}


async def test_a_timeout_answers_late_but_the_message_was_sent(make_stack: StackFactory) -> None:
    stack = await make_stack(faults=Faults(timeout_rate=1, timeout_s=0.5))
    await open_window(stack)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await stack.send(text_message(body="Hi"))
    await asyncio.sleep(0.6)

    assert time.monotonic() - started >= 0.5
    assert len(stack.sandbox.world.sent) == 1


async def test_metrics_count_sends_violations_webhooks_and_faults(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await customer_writes(stack)
    await stack.send(text_message())
    await stack.send(text_message(to=OTHER))
    await stack.send({**text_message(), "text": {"body": ""}})
    await stack.call("PUT", "/_sandbox/faults", {"server_error_rate": 1})
    await stack.send(text_message())
    await stack.settle()

    async with stack.client.get("/metrics") as resp:
        text = await resp.text()
    for line in (
        'wagate_sandbox_sends_total{outcome="accepted"} 2.0',
        'wagate_sandbox_sends_total{outcome="refused"} 1.0',
        'wagate_sandbox_violations_total{code="131047"} 1.0',
        'wagate_sandbox_webhooks_total{outcome="delivered"} 4.0',
        'wagate_sandbox_faults_total{fault="server_error"} 1.0',
    ):
        assert line in text, line
