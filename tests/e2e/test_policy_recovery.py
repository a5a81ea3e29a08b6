"""Policy's tables come back exactly from their changelogs after its worker is killed."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest

from shared.client import WagateClient
from shared.events.intents import OutboundIntentSubmitted, TextContent
from tests.e2e.conftest import System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
CUSTOMERS = ("16505550101", "16505550102", "16505550103")


async def _windows(system: System) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        for customer in (*CUSTOMERS, "16505550199"):
            url = f"{system.url('policy')}/windows/{PHONE_NUMBER_ID}/{customer}"
            async with session.get(url) as resp:
                assert resp.status == 200
                out[customer] = await resp.json()
    return out


async def test_a_killed_worker_recovers_its_windows(system: System) -> None:
    async with aiohttp.ClientSession() as session:
        for customer in CUSTOMERS:
            async with session.post(
                f"{system.url('sandbox')}/sandbox/customer-messages",
                json={"phone_number_id": PHONE_NUMBER_ID, "from": customer, "text": "hi"},
            ) as resp:
                assert resp.status == 200
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", len(CUSTOMERS))
    before = await _windows(system)
    assert all(before[c]["is_open"] for c in CUSTOMERS)
    assert not before["16505550199"]["is_open"]

    await system.restart_killed("policy")

    after = await _windows(system)
    for customer in before:
        assert (
            after[customer]["last_customer_message_at"]
            == before[customer]["last_customer_message_at"]
        )
        assert after[customer]["expires_at"] == before[customer]["expires_at"]
    intent = OutboundIntentSubmitted(
        intent_id=f"recovery-{uuid.uuid4()}",
        phone_number_id=PHONE_NUMBER_ID,
        to=CUSTOMERS[0],
        content=TextContent(body="Still here after a restart."),
        priority="reply",
    )
    async with WagateClient(system.kafka) as client:
        updates = await client.send_and_wait(intent, timeout_s=120)
    assert [u.state for u in updates][-1] == "delivered"
