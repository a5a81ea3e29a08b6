"""Customers as Meta names them in 2026, through the wired system and the sandbox: a username
customer with no phone in any webhook writes, gets a free-form reply addressed by BSUID and its
delivery updates, and their STOP is honoured; an authentication template to them is rejected
before sending; a customer known by phone keeps one window and one consent record when
addressed by their BSUID; a number change moves the window to the new number; a phone customer
who hides their phone behind a username and writes has the window they are answered in."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shared.client import WagateClient
from shared.events.delivery import DeliveryUpdated
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from tests.e2e.conftest import System
from tests.e2e.test_consent_e2e import (
    SHOP,
    counted,
    customer_writes,
    import_opt_ins,
    metric,
    no_violations,
    now_iso,
    outcome,
    shipping_update,
    templates_ready,
    until,
)
from tests.e2e.test_fallbacks_e2e import OTP, template_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
PORTFOLIO = "200000000000001"  # the sandbox's, and policy's default


async def sandbox(system: System, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{system.url('sandbox')}{path}", json=body) as resp,
    ):
        assert resp.status == 200, await resp.text()
        answer: dict[str, Any] = await resp.json()
        return answer


def window_open(system: System, customer: str) -> Callable[[], Awaitable[bool]]:
    """Whether policy shows the window with the customer open."""

    async def is_open() -> bool:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{system.url('policy')}/windows/{SHOP}/{customer}") as resp,
        ):
            return bool((await resp.json()).get("is_open"))

    return is_open


async def send(
    system: System, content: TemplateContent | TextContent, **address: str
) -> list[DeliveryUpdated]:
    intent = OutboundIntentSubmitted(
        intent_id=f"e2e-{uuid.uuid4()}", phone_number_id=SHOP, content=content, **address
    )
    async with WagateClient(system.kafka) as client:
        return await client.send_and_wait(intent, timeout_s=90)


async def test_a_username_customer_without_a_phone_is_answered_by_bsuid_and_stopped(
    system: System, tmp_path: Path
) -> None:
    await templates_ready(system, "shipping_update")
    await template_in(system, "one_time_passcode", "en_US")
    ana = await sandbox(
        system, "/_sandbox/customers", {"username": "ana.r", "name": "Ana", "country": "BR"}
    )
    assert ana["phone"] is None
    bsuid = ana["user_ids"][PORTFOLIO]

    await sandbox(
        system,
        "/sandbox/customer-messages",
        {"phone_number_id": SHOP, "from_user_id": bsuid, "text": "Oi"},
    )
    await counted(system, 1, "wagate_policy_windows_updated_total")
    reply = await send(system, TextContent(body="Olá, Ana"), recipient=bsuid)
    assert [u.state for u in reply][-1] in ("delivered", "read"), reply
    assert {u.to for u in reply} == {bsuid}
    assert {"accepted", "sent", "delivered"} <= {u.state for u in reply}

    # an authentication code needs a phone: refused by policy, never sent (no 131062)
    import_opt_ins(system, tmp_path, f"{SHOP},{bsuid},all,true,{now_iso(60)},app signup\n")
    await counted(system, 1, "wagate_policy_consent_updated_total", source="business")
    code = TemplateContent(name="one_time_passcode", language="en_US", components=OTP)
    assert outcome(await send(system, code, recipient=bsuid)) == (
        "rejected",
        ["BSUID_AUTHENTICATION"],
    )
    assert outcome(await send(system, shipping_update("U-1"), recipient=bsuid))[0] == "delivered"

    # their STOP, written with no phone, stops templates addressed by BSUID
    await sandbox(
        system,
        "/sandbox/customer-messages",
        {"phone_number_id": SHOP, "from_user_id": bsuid, "text": "STOP"},
    )
    await counted(system, 1, "wagate_policy_consent_updated_total", source="keyword")
    assert outcome(await send(system, shipping_update("U-2"), recipient=bsuid)) == (
        "rejected",
        ["OPTED_OUT"],
    )
    await no_violations(system)


async def test_a_phone_customer_addressed_by_bsuid_is_one_customer_and_a_number_change_moves(
    system: System, tmp_path: Path
) -> None:
    await templates_ready(system, "shipping_update")
    bo, new_bo = "5511987650001", "5511987650002"
    import_opt_ins(system, tmp_path, f"{SHOP},{bo},all,true,{now_iso(60)},signup form\n")
    await counted(system, 1, "wagate_policy_consent_updated_total", source="business")
    await system.customer_writes(SHOP, bo, "Olá")  # the sandbox's webhook carries the BSUID too
    await counted(system, 1, "wagate_policy_windows_updated_total")
    bsuid = (await sandbox(system, "/_sandbox/customers", {"phone": bo}))["user_ids"][PORTFOLIO]

    # one window: a free-form reply by BSUID is inside the window the phone opened
    reply = await send(system, TextContent(body="Oi Bo"), recipient=bsuid)
    assert outcome(reply)[0] == "delivered", reply
    # one consent record: the opt-in recorded by phone lets a template go by BSUID
    assert outcome(await send(system, shipping_update("P-1"), recipient=bsuid))[0] == "delivered"

    moved = await sandbox(system, "/_sandbox/number-changes", {"from": bo, "to": new_bo})
    assert [n["type"] for n in moved["notified"]] == ["user_changed_number"]
    new_bsuid = moved["customer"]["user_ids"][PORTFOLIO]
    assert new_bsuid != bsuid

    await until(system, window_open(system, new_bo), "the window under the new number")
    await counted(system, 1, "wagate_policy_rekeyed_total", kind="merge", outcome="merged")
    after = await send(system, TextContent(body="Tudo certo"), to=new_bo)
    assert outcome(after)[0] == "delivered", after
    by_new_bsuid = await send(system, TextContent(body="Por BSUID"), recipient=new_bsuid)
    assert outcome(by_new_bsuid)[0] == "delivered", by_new_bsuid
    old = await send(system, TextContent(body="Old number"), to=bo)
    assert outcome(old) == ("rejected", ["WINDOW_CLOSED"])
    await no_violations(system)


async def test_a_phone_customer_writing_behind_a_username_is_answered_in_their_window(
    system: System,
) -> None:
    cy = "5511987650003"
    await customer_writes(system, SHOP, cy, text="Olá", timestamp=now_iso(30 * 3600))
    await counted(system, 1, "wagate_policy_windows_updated_total")
    bsuid = (await sandbox(system, "/_sandbox/customers", {"phone": cy}))["user_ids"][PORTFOLIO]
    assert outcome(await send(system, TextContent(body="Late"), to=cy))[0] == "rejected"

    # the customer adopts a username and hides the phone: the webhook names only the BSUID,
    # and ingest keys it so; policy answers by the phone's conversation, where it is decided
    await sandbox(
        system, "/_sandbox/customers", {"phone": cy, "username": "cy.r", "phone_withheld": True}
    )
    sent_on = await metric(system, "wagate_policy_rekeyed_total", kind="inbound", outcome="sent")
    await customer_writes(system, SHOP, cy, text="Ainda aí?")
    await counted(
        system, sent_on + 1, "wagate_policy_rekeyed_total", kind="inbound", outcome="sent"
    )

    await until(system, window_open(system, cy), "the window the username's message opened")
    reply = await send(system, TextContent(body="Sim!"), recipient=bsuid)
    assert outcome(reply)[0] == "delivered", reply
    await no_violations(system)
