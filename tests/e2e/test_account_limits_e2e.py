"""Meta's live limits and account signals through the wired system and the sandbox: a limit
change the sandbox reports changes what policy admits within seconds; a throughput upgrade
raises dispatch's rate for that number; a marketing template to a US customer is rejected
before sending; a paced template shows `paced`, then its outcome; Meta's 131049 holds that
customer's marketing (a short hold here) while other intents flow, and the intent goes once
the hold ends."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import aiohttp
import pytest
from aiokafka.partitioner import DefaultPartitioner

from shared.client import WagateClient
from shared.events.delivery import DeliveryUpdated
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.keys import conversation_key
from shared.topics import INTENTS
from tests.e2e.conftest import System
from tests.e2e.test_consent_e2e import LOYALTY, shipping_update, templates_ready, until
from tests.e2e.test_fallbacks_e2e import sandbox as _call

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
SHOP = "106540352242922"
DISPLAY = "15550001111"  # the sandbox's display number


@pytest.fixture
def system_env() -> dict[str, str]:
    return {
        "POLICY_MESSAGING_LIMIT": str(INTENTS.partitions),  # one new customer per partition
        "POLICY_MARKETING_HOLD_S": "4",
        "POLICY_MARKETING_PER_DAY": "0",
        "POLICY_MARKETING_PER_WEEK": "0",
        "DISPATCH_NUMBERS": f'{{"{SHOP}": {{"waba_id": "100000000000001", '
        f'"display_phone_number": "{DISPLAY}"}}}}',
    }


async def _send(system: System, to: str, content: TemplateContent) -> list[DeliveryUpdated]:
    intent = OutboundIntentSubmitted(
        intent_id=f"e2e-{uuid.uuid4()}", phone_number_id=SHOP, to=to, content=content
    )
    async with WagateClient(system.kafka) as client:
        return await client.send_and_wait(intent, timeout_s=90)


async def _get(system: System, service: str, path: str) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.url(service)}{path}") as resp,
    ):
        assert resp.status == 200, await resp.text()
        return await resp.json()


def _partition(customer: str) -> int:
    key = conversation_key(SHOP, customer).encode()
    partitions = list(range(INTENTS.partitions))
    return int(DefaultPartitioner()(key, partitions, partitions))


def _same_partition(customer: str, prefix: str) -> list[str]:
    """Other customers whose conversations share `customer`'s partition (its limit share)."""
    wanted = _partition(customer)
    found = (f"{prefix}{n:03d}" for n in range(1000))
    return [c for c in found if c != customer and _partition(c) == wanted][:3]


def _states(updates: list[DeliveryUpdated]) -> list[str]:
    return [u.state for u in updates]


async def _violations(system: System) -> list[dict[str, Any]]:
    return list((await _call(system, "GET", "/_sandbox/violations"))["violations"])


async def test_limits_throughput_us_marketing_and_pacing(system: System) -> None:
    await templates_ready(system, "shipping_update", "loyalty_follow_up")
    ana, us = "447700900401", "16505551234"
    bo, cy, _ = _same_partition(ana, "447700900")  # one share of the limit: one new customer
    await system.opted_in(SHOP, (ana, "all"), (bo, "all"), (cy, "all"), (us, "all"))
    await asyncio.sleep(1)  # the opt-ins are on the consent topic before the intents

    # the settings' limit (a share of one new customer in 24 h), until Meta reports the portfolio's
    first = await _send(system, ana, shipping_update("L-1"))
    assert _states(first)[-1] == "delivered", first
    refused = await _send(system, bo, shipping_update("L-2"))
    assert (refused[-1].state, refused[-1].reasons) == ("rejected", ["MESSAGING_LIMIT"])
    reported = time.monotonic()
    await _call(system, "POST", "/_sandbox/accounts/limit", {"tier": "TIER_2K"})

    async def admitted() -> bool:
        portfolios = (await _get(system, "policy", "/accounts"))["portfolios"]
        return any(p.get("limit") == 2000 for p in portfolios.values())

    await until(system, admitted, "policy taking Meta's limit", 30)
    assert time.monotonic() - reported < 10  # within seconds
    assert _states(await _send(system, bo, shipping_update("L-3")))[-1] == "delivered"

    # a marketing template to a US customer never leaves
    us_promo = await _send(system, us, LOYALTY)
    assert (us_promo[-1].state, us_promo[-1].reasons) == ("rejected", ["US_MARKETING_PAUSED"])

    # Meta upgrades the number's throughput: dispatch's rate for it rises
    before = (await _get(system, "dispatch", "/numbers"))["numbers"][SHOP]
    assert before["mps"] == 80.0 and before["messaging_limit"] == 2000  # the WABA's report
    await _call(system, "POST", "/_sandbox/accounts/throughput-upgrade", {"phone_number_id": SHOP})

    async def upgraded() -> bool:
        return (await _get(system, "dispatch", "/numbers"))["numbers"][SHOP]["mps"] == 1000.0

    await until(system, upgraded, "dispatch taking the throughput upgrade", 30)

    # a paced template: `paced`, then its release
    templates = (await _call(system, "GET", "/_sandbox/templates"))["data"]
    [loyalty] = [t for t in templates if t["name"] == "loyalty_follow_up"]
    await _call(system, "POST", f"/_sandbox/templates/{loyalty['id']}/pacing", {"paced": True})
    paced = await _send(system, cy, LOYALTY)
    assert _states(paced) == ["paced", "sent", "delivered"], paced
    assert paced[0].reasons == ["PACED"] and paced[0].wamid == paced[-1].wamid
    assert await _violations(system) == []


async def test_131049_holds_that_customers_marketing_while_others_flow(system: System) -> None:
    await templates_ready(system, "shipping_update", "loyalty_follow_up")
    ana, bo = "447700900501", "447700900502"
    await system.opted_in(SHOP, (ana, "all"), (bo, "all"))
    await asyncio.sleep(1)
    await _call(system, "POST", "/_sandbox/accounts/limit", {"tier": "TIER_UNLIMITED"})
    await _call(system, "POST", "/_sandbox/sender-codes", {"codes": [131049]})
    started = time.monotonic()
    held = asyncio.create_task(_send(system, ana, LOYALTY))

    async def handed_back() -> bool:
        sent = (await _call(system, "GET", "/_sandbox/messages"))["sent"]
        return any(m.get("error") == 131049 for m in sent)

    await until(system, handed_back, "Meta's 131049 for the first send", 30)
    other = await _send(system, bo, shipping_update("H-1"))  # flows meanwhile
    assert _states(other)[-1] == "delivered" and not held.done()
    updates = await held
    assert _states(updates)[-2:] == ["sent", "delivered"], updates
    assert time.monotonic() - started >= 4  # not before the hold ended
    sent = (await _call(system, "GET", "/_sandbox/messages"))["sent"]
    assert len([m for m in sent if m["recipient"] == ana]) == 2  # tried once more, not more
    assert await _violations(system) == []
