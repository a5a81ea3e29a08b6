"""Conversation signals through the wired system and the sandbox (rules §3.1, §9.6): a customer
who only called gets a free-form reply approved and delivered, a business call they rejected
opens nothing; an intent to a thread Meta's agent took is rejected with THREAD_HELD_BY_AGENT
and goes with take_control; a Business app echo counts against the customer's pair rate, so
dispatch's next send waits and the sandbox (as strict as Meta) sees no 131056."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import aiohttp
import pytest

from shared.client import WagateClient
from shared.events.delivery import DeliveryUpdated
from shared.events.intents import OutboundIntentSubmitted, TextContent
from tests.e2e.conftest import System
from tests.e2e.test_consent_e2e import SHOP, counted, customer_writes, outcome
from tests.e2e.test_identity_e2e import sandbox
from tests.e2e.test_walkthrough import _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
PAIR_INTERVAL_S = 6.0


@pytest.fixture
def system_env() -> dict[str, str]:
    # one message per customer per 6 s in dispatch; the sandbox refuses a second within 5 s
    # (the second of slack absorbs the network's jitter between the two clocks)
    return {
        "DISPATCH_RATES__PAIR_BURST": "1",
        "SANDBOX_PAIR_BURST": "1",
        "SANDBOX_PAIR_INTERVAL_S": "5",
    }


async def violations(system: System) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.url('sandbox')}/_sandbox/violations") as resp,
    ):
        found: list[dict[str, Any]] = (await resp.json())["violations"]
        return found


async def reply(system: System, to: str, **fields: Any) -> list[DeliveryUpdated]:
    intent = OutboundIntentSubmitted(
        intent_id=f"signals-{uuid.uuid4()}", phone_number_id=SHOP, to=to,
        content=TextContent(body="Thanks for getting in touch"), **fields,
    )  # fmt: skip
    async with WagateClient(system.kafka) as client:
        return await client.send_and_wait(intent, timeout_s=90)


async def test_calls_open_the_window_and_an_agent_held_thread_needs_take_control(
    system: System,
) -> None:
    caller, declined, agent_side = "447700900201", "447700900202", "447700900203"
    await sandbox(system, "/_sandbox/calls", {"phone_number_id": SHOP, "from": caller})
    answer = await sandbox(
        system,
        "/_sandbox/calls",
        {"phone_number_id": SHOP, "from": declined, "direction": "BUSINESS_INITIATED",
         "accepted": False},
    )  # fmt: skip
    assert answer["opens_window"] is False
    await counted(system, 1, "wagate_policy_windows_updated_total")
    called = await reply(system, caller)
    assert outcome(called)[0] in ("delivered", "read"), called
    state, reasons = outcome(await reply(system, declined))
    assert (state, reasons) == ("rejected", ["WINDOW_CLOSED"])

    await customer_writes(system, SHOP, agent_side, text="Hi")
    await sandbox(
        system,
        "/_sandbox/threads",
        {"phone_number_id": SHOP, "wa_id": agent_side, "action": "take", "metadata": "faq"},
    )
    await counted(system, 1, "wagate_policy_threads_updated_total", held_by="agent")
    state, reasons = outcome(await reply(system, agent_side))
    assert (state, reasons) == ("rejected", ["THREAD_HELD_BY_AGENT"])
    taken = await reply(system, agent_side, take_control=True)
    assert outcome(taken)[0] in ("delivered", "read"), taken
    await counted(system, 1, "wagate_policy_threads_updated_total", held_by="business")
    await customer_writes(system, SHOP, agent_side, text="thanks")  # the app answers again
    assert outcome(await reply(system, agent_side))[0] in ("delivered", "read")
    assert await violations(system) == []


async def test_an_echo_counts_against_the_customers_pair_rate(system: System) -> None:
    customer = "447700900301"
    await customer_writes(system, SHOP, customer, text="Is my order ready?")
    await counted(system, 1, "wagate_policy_windows_updated_total")
    echo = {"phone_number_id": SHOP, "to": customer, "text": "Checking, one moment"}
    await sandbox(system, "/_sandbox/echoes", echo)
    echoed_at = time.monotonic()
    counter = re.escape('wagate_dispatch_outside_sends_total{source="business_app"}')
    await _wait_metric(system, "dispatch", counter, 1)
    updates = await reply(system, customer)
    assert outcome(updates)[0] in ("delivered", "read"), updates
    waited = time.monotonic() - echoed_at
    assert waited >= PAIR_INTERVAL_S * 0.75, f"sent {waited:.1f} s after the echo"
    assert (
        await violations(system) == []
    )  # the sandbox refuses a send within 6 s of the echo (131056)
