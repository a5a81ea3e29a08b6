"""Pricing, the Marketing Messages API and read receipts through the wired system and the
sandbox: a decision's expected price follows the pricing table and changes at its dated
period; `wagate spend` adds up what the sandbox's statuses priced; a MARKETING template goes to
/marketing_messages from a number whose portfolio is configured and to /messages from one
that is not; a read receipt with a typing indicator reaches the sandbox for a message inside
the window and is refused outside it."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from shared import codec
from shared.client import WagateClient
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import (
    MessageContent,
    OutboundIntentSubmitted,
    ReadReceiptContent,
    TextContent,
)
from shared.topics import DECISIONS
from tests.e2e.conftest import System
from tests.e2e.test_consent_e2e import LOYALTY
from tests.e2e.test_fallbacks_e2e import customer_writes, records, sandbox, template_in
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]
MARKETING_NUMBER = "106540352242999"  # its portfolio is onboarded to the Marketing Messages API
CHANGE_IN = timedelta(seconds=75)  # the table's second period starts this long after setup
FREE_TILL_THEN = {"category": "SERVICE", "pricing": "free_service"}


@pytest.fixture
def change_at() -> datetime:
    return datetime.now(UTC) + CHANGE_IN


@pytest.fixture
def system_env(tmp_path: Path, change_at: datetime) -> dict[str, str]:
    table = {
        "periods": [
            {
                "effective_from": "2020-01-01",
                "basis": "meta",
                "rules": [FREE_TILL_THEN, {"pricing": "marketing-as-priced"}],
            },
            {
                "effective_from": change_at.isoformat(),
                "basis": "reported",
                "rules": [{"category": "SERVICE", "pricing": "service"}, {"pricing": "x"}],
            },
        ]
    }
    path = tmp_path / "pricing.json"
    path.write_text(json.dumps(table))
    return {
        "POLICY_PRICING_TABLE": str(path),
        "DISPATCH_MARKETING_MESSAGES": json.dumps({"p-mm": {"product_policy": "STRICT"}}),
        "DISPATCH_NUMBERS": json.dumps({MARKETING_NUMBER: {"portfolio_id": "p-mm"}}),
    }


def _intent(number: str, to: str, content: MessageContent) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=f"e2e-{uuid.uuid4()}", phone_number_id=number, to=to, content=content
    )


async def _decisions(system: System) -> dict[str, PolicyDecisionMade]:
    decoded = [codec.decode(PolicyDecisionMade, r) for r in await records(system, DECISIONS.name)]
    return {d.intent.intent_id: d for d in decoded}


async def test_pricing_marketing_routing_and_read_receipts(
    system: System, change_at: datetime
) -> None:
    writer, late, mm_customer, plain_customer = (
        "447700900301", "447700900302", "447700900303", "447700900304",
    )  # fmt: skip
    await template_in(system, "loyalty_follow_up", "en_US")
    await system.opted_in(MARKETING_NUMBER, (mm_customer, "marketing"))
    await system.opted_in(PHONE_NUMBER_ID, (plain_customer, "marketing"))
    wamid = await system.customer_writes(PHONE_NUMBER_ID, writer, "Is it in stock?")
    await customer_writes(system, late, datetime.now(UTC) - timedelta(hours=25))
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 2)
    await asyncio.sleep(3)  # the template's state reaches policy through its topic

    async with WagateClient(system.kafka) as client:
        before = _intent(PHONE_NUMBER_ID, writer, TextContent(body="Yes, in blue and red."))
        replied = await client.send_and_wait(before, timeout_s=90)
        typing = ReadReceiptContent(message_id=wamid, typing_indicator=True)
        receipt = await client.send_and_wait(_intent(PHONE_NUMBER_ID, writer, typing), 90)
        too_late = ReadReceiptContent(message_id="wamid.late", typing_indicator=True)
        refused = await client.send_and_wait(_intent(PHONE_NUMBER_ID, late, too_late), 90)
        routed = await client.send_and_wait(_intent(MARKETING_NUMBER, mm_customer, LOYALTY), 90)
        plain = await client.send_and_wait(_intent(PHONE_NUMBER_ID, plain_customer, LOYALTY), 90)
        await asyncio.sleep(max(0.0, (change_at - datetime.now(UTC)).total_seconds()) + 1)
        after = _intent(PHONE_NUMBER_ID, writer, TextContent(body="It ships tomorrow."))
        replied_later = await client.send_and_wait(after, timeout_s=90)

    # the expected price of the same reply follows the table's period in force
    decisions = await _decisions(system)
    first, second = decisions[before.intent_id], decisions[after.intent_id]
    assert first.occurred_at < change_at, "the system started too slowly to see the change"
    assert (first.pricing, second.pricing) == ("free_service", "service")
    assert decisions[routed[0].intent_id].pricing == "marketing-as-priced"
    assert replied[-1].state == "delivered" and replied_later[-1].state == "delivered"

    # a read receipt: in the window it reaches the sandbox, with its typing indicator
    assert [u.state for u in receipt] == ["read"] and receipt[0].wamid is None
    assert decisions[receipt[0].intent_id].pricing is None
    assert [(u.state, u.reasons) for u in refused] == [("rejected", ["WINDOW_CLOSED"])]
    traffic = await sandbox(system, "GET", "/_sandbox/messages")
    assert [(r["wamid"], r["typing_indicator"]) for r in traffic["read_receipts"]] == [
        (wamid, True)
    ]

    # marketing: the marketing endpoint where configured, /messages elsewhere
    assert routed[-1].state == "delivered" and plain[-1].state == "delivered", (routed, plain)
    sent = {m["wamid"]: m for m in traffic["sent"]}
    assert sent[routed[0].wamid]["endpoint"] == "marketing_messages"
    assert sent[routed[0].wamid]["pricing"]["category"] == "marketing_lite"
    assert sent[plain[0].wamid]["endpoint"] == "messages"
    assert sent[plain[0].wamid]["pricing"]["category"] == "marketing"
    assert decisions[routed[0].intent_id].template_category == "MARKETING"

    # wagate spend: what the statuses priced, per number, template and category
    done = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["--json", "spend", "--dispatch-url", system.url("dispatch")],
        catch_exceptions=False,
    )
    assert done.exit_code == 0, done.output
    spend = json.loads(done.output)
    rows = {(r["phone_number_id"], r["template"], r["category"]): r for r in spend["rows"]}
    lite = rows[(MARKETING_NUMBER, "loyalty_follow_up", "marketing_lite")]
    cloud = rows[(PHONE_NUMBER_ID, "loyalty_follow_up", "marketing")]
    free = rows[(PHONE_NUMBER_ID, "", "service")]
    assert (lite["charged"], cloud["charged"]) == (1, 1)
    assert (free["delivered"], free["charged"], free["type"]) == (2, 0, "free_customer_service")
    assert (spend["delivered"], spend["charged"]) == (4, 2)
    violations = await sandbox(system, "GET", "/_sandbox/violations")
    assert violations["count"] == 0, violations
