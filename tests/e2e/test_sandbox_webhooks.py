"""Every webhook the sandbox sends is one ingest accepts: messages of every type, statuses,
template updates, user preferences; a forged copy is refused and the genuine one accepted."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import System

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "100000000000001"
CUSTOMER = "16505550101"
TOKEN = {"Authorization": "Bearer sandbox-token"}


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, body: dict[str, Any] | None = None
) -> Any:
    async with session.request(method, url, json=body, headers=TOKEN) as resp:
        payload = await resp.json()
        assert resp.status == 200, payload
        return payload


async def _webhook_counts(session: aiohttp.ClientSession, url: str) -> dict[str, float]:
    async with session.get(f"{url}/metrics") as resp:
        text = await resp.text()
    found = re.findall(
        r'^wagate_sandbox_webhooks_total\{outcome="(\w+)"\} ([0-9.e+]+)$', text, re.M
    )
    return {outcome: float(value) for outcome, value in found}


async def test_ingest_accepts_every_webhook_the_sandbox_sends(system: System) -> None:
    sandbox = system.url("sandbox")
    async with aiohttp.ClientSession() as session:
        # First, while nothing else is in flight: one customer message with a forged copy.
        customer = {"phone_number_id": PHONE_NUMBER_ID, "from": CUSTOMER}
        await _call(session, "PUT", f"{sandbox}/_sandbox/faults", {"webhook_bad_signature_rate": 1})
        await _call(
            session,
            "POST",
            f"{sandbox}/_sandbox/customer-messages",
            {**customer, "text": "Forged?"},
        )
        await _call(session, "PUT", f"{sandbox}/_sandbox/faults", {})
        template = {
            "name": f"e2e_notice_{int(time.time())}",
            "language": "en_US",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Your appointment is confirmed."}],
        }
        created = await _call(
            session, "POST", f"{sandbox}/v24.0/{WABA_ID}/message_templates", template
        )
        control = f"{sandbox}/_sandbox/templates/{created['id']}"
        await _call(session, "POST", f"{control}/review", {})
        await _call(session, "POST", f"{control}/pause", {})
        await _call(session, "POST", f"{control}/unpause", {})
        await _call(
            session, "POST", f"{control}/category", {"category": "MARKETING", "notice": True}
        )
        await _call(session, "POST", f"{control}/quality", {"score": "YELLOW"})
        preference = {"phone_number_id": PHONE_NUMBER_ID, "wa_id": CUSTOMER, "value": "stop"}
        await _call(session, "POST", f"{sandbox}/_sandbox/user-preferences", preference)

        first = await _call(
            session,
            "POST",
            f"{sandbox}/_sandbox/customer-messages",
            {**customer, "text": "Hi", "referral": {"source_id": "120", "ctwa_clid": "c1"}},
        )
        reply = {
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "text",
            "text": {"body": "Hello!"},
        }
        sent = await _call(session, "POST", f"{sandbox}/v24.0/{PHONE_NUMBER_ID}/messages", reply)
        wamid = sent["messages"][0]["id"]
        for extra in (
            {
                "type": "button",
                "button": {"payload": "STOP", "text": "Stop"},
                "context": {"id": wamid},
            },
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "y", "title": "Yes"},
                },
                "context": {"id": wamid},
            },
            {"type": "image", "image": {"caption": "this one"}},
            {"type": "location", "location": {"latitude": 1, "longitude": 2}},
            {"type": "reaction", "reaction": {"message_id": wamid, "emoji": "x"}},
        ):
            await _call(
                session, "POST", f"{sandbox}/_sandbox/customer-messages", {**customer, **extra}
            )
        assert first["id"] != wamid

        # 5 template updates, 1 preference, 7 customer messages, sent + delivered of the reply
        expected = 15
        deadline = time.monotonic() + 60
        counts: dict[str, float] = {}
        while time.monotonic() < deadline:
            counts = await _webhook_counts(session, sandbox)
            if counts.get("delivered", 0) >= expected and counts.get("forgery_refused", 0) >= 1:
                break
            await asyncio.sleep(0.3)
        kept = (await _call(session, "GET", f"{sandbox}/_sandbox/webhooks"))["count"]

    assert kept == expected
    assert counts.get("delivered") == expected, (counts, system.log_tail("ingest"))
    assert counts.get("forgery_refused") == 1
    assert counts.get("refused", 0) == 0, system.log_tail("ingest")
    assert counts.get("forgery_accepted", 0) == 0
