"""Dispatch keeps to a number's throughput: the sandbox enforces the same rate and records
every 130429 as a violation; a burst of intents is paced, all delivered, none throttled."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import aiohttp
import pytest

from shared.client import WagateClient
from shared.events.intents import OutboundIntentSubmitted, TextContent
from tests.e2e.conftest import System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
MPS = 20
CUSTOMERS = [f"1650777{n:04d}" for n in range(3 * MPS)]


async def test_a_burst_is_paced_to_the_numbers_rate_without_throttling(system: System) -> None:
    sandbox = system.url("sandbox")
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{sandbox}/_sandbox/throughput", json={"phone_number_id": PHONE_NUMBER_ID, "mps": MPS}
        ) as resp:
            assert resp.status == 200
        for customer in CUSTOMERS:
            async with session.post(
                f"{sandbox}/sandbox/customer-messages",
                json={"phone_number_id": PHONE_NUMBER_ID, "from": customer, "text": "hi"},
            ) as resp:
                assert resp.status == 200
    system.env["DISPATCH_RATES__NUMBERS_MPS"] = json.dumps({PHONE_NUMBER_ID: MPS})
    await system.restart_killed("dispatch")
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.url('dispatch')}/numbers") as resp,
    ):
        assert (await resp.json())["numbers"][PHONE_NUMBER_ID]["mps"] == MPS
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", len(CUSTOMERS))

    intents = [
        OutboundIntentSubmitted(
            intent_id=f"rate-{n}",
            phone_number_id=PHONE_NUMBER_ID,
            to=c,
            content=TextContent(body="Your order shipped"),
            priority="notification",
        )
        for n, c in enumerate(CUSTOMERS)
    ]
    accepted_at: dict[str, float] = {}
    delivered: set[str] = set()
    async with (
        WagateClient(system.kafka) as client,
        client.follow([i.intent_id for i in intents]) as stream,
    ):
        for intent in intents:
            await client.send(intent)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(120):
                async for update in stream:
                    if update.state == "accepted":
                        accepted_at.setdefault(update.intent_id, time.monotonic())
                    if update.state == "delivered":
                        delivered.add(update.intent_id)
                    if len(delivered) == len(intents):
                        break

    assert len(delivered) == len(intents), f"{len(delivered)} of {len(intents)} delivered"
    spread = max(accepted_at.values()) - min(accepted_at.values())
    assert spread >= 0.8 * (len(intents) - MPS) / MPS, f"{len(intents)} sends in {spread:.2f} s"
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sandbox}/sandbox/violations") as resp,
    ):
        violations = await resp.json()
    assert violations["count"] == 0, violations
