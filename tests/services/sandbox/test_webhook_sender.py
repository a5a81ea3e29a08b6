"""Webhook delivery: refused posts are retried; faults duplicate, reorder, delay and forge
webhooks, from a seeded source; with no URL webhooks are only kept; one is posted at a time
unless the sandbox is told to post more at once."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web

from services.sandbox.faults import FaultBoard, Faults, WebhookPlan
from services.sandbox.webhook_sender import WebhookSender
from tests.conftest import free_port
from tests.services.sandbox.conftest import (
    CUSTOMER,
    PNID,
    StackFactory,
    customer_writes,
    open_window,
    set_faults,
    text_message,
)


async def test_webhooks_refused_by_ingest_are_retried(make_stack: StackFactory) -> None:
    stack = await make_stack()
    stack.receiver.refuse_next = 2
    await customer_writes(stack)
    await stack.settle()

    assert len(stack.receiver.bodies) == 3
    assert stack.sender.delivered == 1


async def test_duplicated_webhooks_arrive_twice(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await open_window(stack)
    await set_faults(stack, webhook_duplicate_rate=1)
    await stack.send(text_message(body="Hi"))
    await stack.settle()

    assert [s["status"] for s in stack.receiver.statuses()] == [
        "sent",
        "sent",
        "delivered",
        "delivered",
    ]


async def test_reordered_webhooks_deliver_before_sent(make_stack: StackFactory) -> None:
    stack = await make_stack(status_delay_s=0.01)
    await open_window(stack)
    await set_faults(stack, webhook_reorder_rate=1)
    await stack.send(text_message(body="Hi"))
    await stack.settle()

    assert [s["status"] for s in stack.receiver.statuses()] == ["delivered", "sent"]


class Scripted(FaultBoard):
    """Webhook plans in a given order (then none), so a test picks which status is held."""

    def __init__(self, *plans: WebhookPlan) -> None:
        super().__init__(Faults(), None)
        self.plans = list(plans)

    def next_webhook_plan(self) -> WebhookPlan:
        return self.plans.pop(0) if self.plans else WebhookPlan()


async def test_a_held_delivered_status_arrives_after_read(make_stack: StackFactory) -> None:
    stack = await make_stack(status_delay_s=0.01, read_after_s=0.05)
    await open_window(stack)
    stack.sender.board = Scripted(WebhookPlan(), WebhookPlan(hold_for_reorder=True))
    await stack.send(text_message(body="Hi"))
    await stack.settle()

    assert [s["status"] for s in stack.receiver.statuses()] == ["sent", "read", "delivered"]
    async with stack.client.get("/metrics") as resp:
        assert 'wagate_sandbox_faults_total{fault="webhook_reorder"} 1.0' in await resp.text()


async def test_webhook_faults_are_counted(make_stack: StackFactory) -> None:
    stack = await make_stack(status_delay_s=0.01)
    await open_window(stack)
    stack.sender.board = Scripted(
        WebhookPlan(copies=2, bad_signature=True), WebhookPlan(delay_s=0.1, hold_for_reorder=True)
    )
    await stack.send(text_message(body="Hi"))
    await stack.settle()

    async with stack.client.get("/metrics") as resp:
        text = await resp.text()
    for fault, n in [("duplicate", 1), ("bad_signature", 1), ("delay", 1)]:
        assert f'wagate_sandbox_faults_total{{fault="webhook_{fault}"}} {n}.0' in text, fault
    assert 'fault="webhook_reorder"' not in text  # a delayed webhook is not held as well


async def test_delayed_webhooks_arrive_late(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await set_faults(stack, webhook_delay_rate=1, webhook_delay_s=0.3)
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
    await set_faults(stack, webhook_bad_signature_rate=1)
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


async def _posted_at_once(posters: int, webhooks: int) -> tuple[int, int]:
    """Webhooks posted to a receiver that answers each after a moment: how many were in
    flight at most, and how many arrived."""
    in_flight = most = arrived = 0

    async def receive(request: web.Request) -> web.Response:
        nonlocal in_flight, most, arrived
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        arrived += 1
        return web.Response()

    app = web.Application()
    app.router.add_post("/webhook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/webhook"
            sender = WebhookSender(session, url, "secret", 0.2, posters=posters)
            for n in range(webhooks):
                sender.enqueue({"object": "whatsapp_business_account", "entry": [], "n": n})
            running = asyncio.create_task(sender.run())
            await asyncio.wait_for(sender.drained(), timeout=5)
            assert sender.undelivered() == []
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    finally:
        await runner.cleanup()
    return most, arrived


async def test_webhooks_are_posted_one_at_a_time_unless_told_to_post_more_at_once() -> None:
    assert await _posted_at_once(1, 6) == (1, 6)
    assert await _posted_at_once(3, 6) == (3, 6)  # as Meta posts: several in flight


def test_fewer_than_one_poster_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WebhookSender(None, "", "secret", 0.2, posters=0)  # type: ignore[arg-type]
