"""Faults injected on purpose, seeded: 5xx, timeouts, dropped connections, throttling bursts,
duplicated, reordered, delayed and badly signed webhooks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from services.sandbox.faults import Faults
from services.sandbox.webhook_sender import WebhookSender
from tests.services.sandbox.conftest import PNID, Stack, StackFactory

CUSTOMER = "16505551234"
TEXT = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "Hi"}}


async def _open_window(stack: Stack) -> None:
    body = {"phone_number_id": PNID, "from": CUSTOMER, "text": "Hello"}
    assert (await stack.call("POST", "/_sandbox/customer-messages", body))[0] == 200
    await stack.settle()
    stack.receiver.bodies.clear()
    stack.receiver.signed.clear()


async def _set_faults(stack: Stack, **faults: Any) -> dict[str, Any]:
    status, body = await stack.call("PUT", "/_sandbox/faults", faults)
    assert status == 200, body
    return dict(body)


async def test_server_errors_answer_500_and_send_nothing(make_stack: StackFactory) -> None:
    stack = await make_stack(faults=Faults(server_error_rate=1))
    status, body = await stack.send(TEXT)

    assert (status, body["error"]["code"]) == (500, 131000)
    assert stack.sandbox.world.sent == {}
    assert stack.sandbox.world.violations == []


async def test_a_throttling_burst_refuses_that_many_sends_then_recovers(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await _open_window(stack)
    await _set_faults(stack, throttle_rate=1.0, throttle_burst=3)
    first = await stack.send(TEXT)
    stack.sandbox.board.faults = Faults(throttle_burst=3)  # no new bursts; this one goes on
    rest = [await stack.send(TEXT) for _ in range(3)]

    codes = [body["error"]["code"] if status != 200 else 200 for status, body in [first, *rest]]
    assert codes == [130429, 130429, 130429, 200]
    assert stack.sandbox.world.violations == []
    assert len(stack.sandbox.world.sent) == 1


async def test_a_dropped_connection_gets_no_answer(make_stack: StackFactory) -> None:
    stack = await make_stack(faults=Faults(drop_rate=1))
    with pytest.raises(aiohttp.ClientError):
        await stack.send(TEXT)
    assert stack.sandbox.world.sent == {}


async def test_a_timeout_answers_late_but_the_message_was_sent(make_stack: StackFactory) -> None:
    stack = await make_stack(faults=Faults(timeout_rate=1, timeout_s=0.5))
    await _open_window(stack)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await stack.send(TEXT)
    await asyncio.sleep(0.6)

    assert time.monotonic() - started >= 0.5
    assert len(stack.sandbox.world.sent) == 1


async def test_faults_are_shown_and_cleared(make_stack: StackFactory) -> None:
    stack = await make_stack()
    shown = await _set_faults(stack, drop_rate=0.25, seed=11)
    assert (shown["drop_rate"], shown["seed"]) == (0.25, 11)
    assert (await stack.call("GET", "/_sandbox/faults"))[1] == shown
    status, body = await stack.call("PUT", "/_sandbox/faults", {"drop_rate": 2})
    assert status == 400 and "drop_rate" in body["error"]
    status, body = await stack.call("PUT", "/_sandbox/faults", {"no_such_fault": 1})
    assert status == 400
    cleared = await _set_faults(stack)
    assert cleared["drop_rate"] == 0


async def test_duplicated_webhooks_arrive_twice(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await _open_window(stack)
    await _set_faults(stack, webhook_duplicate_rate=1)
    await stack.send(TEXT)
    await stack.settle()

    assert [s["status"] for s in stack.receiver.statuses()] == [
        "sent",
        "sent",
        "delivered",
        "delivered",
    ]


async def test_reordered_webhooks_deliver_before_sent(make_stack: StackFactory) -> None:
    stack = await make_stack(status_delay_s=0.01)
    await _open_window(stack)
    await _set_faults(stack, webhook_reorder_rate=1)
    await stack.send(TEXT)
    await stack.settle()

    assert [s["status"] for s in stack.receiver.statuses()] == ["delivered", "sent"]


async def test_delayed_webhooks_arrive_late(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await _set_faults(stack, webhook_delay_rate=1, webhook_delay_s=0.3)
    started = time.monotonic()
    await stack.call(
        "POST",
        "/_sandbox/customer-messages",
        {"phone_number_id": PNID, "from": CUSTOMER, "text": "Hi"},
    )
    await asyncio.sleep(0.1)
    assert stack.receiver.bodies == []
    await stack.settle()

    assert len(stack.receiver.payloads()) == 1
    assert time.monotonic() - started >= 0.3


async def test_a_badly_signed_copy_comes_before_the_genuine_webhook(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await _set_faults(stack, webhook_bad_signature_rate=1)
    await stack.call(
        "POST",
        "/_sandbox/customer-messages",
        {"phone_number_id": PNID, "from": CUSTOMER, "text": "Hi"},
    )
    await stack.settle()

    assert stack.receiver.signed == [False, True]
    assert stack.receiver.bodies[0] == stack.receiver.bodies[1]
    assert stack.sender.refused_forgeries == 1
    assert stack.sender.delivered == 1


async def test_the_same_seed_mangles_the_same_webhooks(make_stack: StackFactory) -> None:
    async def run() -> list[bool]:
        stack = await make_stack(
            seed=21, faults=Faults(webhook_bad_signature_rate=0.5, webhook_duplicate_rate=0.3)
        )
        for i in range(12):
            body = {"phone_number_id": PNID, "from": CUSTOMER, "text": f"m{i}"}
            await stack.call("POST", "/_sandbox/customer-messages", body)
        await stack.settle()
        return stack.receiver.signed

    first, second = await run(), await run()
    assert first == second
    assert False in first and first.count(True) >= 12


async def test_with_no_webhook_url_webhooks_are_only_kept() -> None:
    async with aiohttp.ClientSession() as session:
        sender = WebhookSender(session, "", "secret", 0.2)
        sender.enqueue({"object": "whatsapp_business_account", "entry": []})
        await asyncio.wait_for(sender.drained(), timeout=1)

    assert list(sender.recent) == [{"object": "whatsapp_business_account", "entry": []}]
    assert sender.delivered == 0
