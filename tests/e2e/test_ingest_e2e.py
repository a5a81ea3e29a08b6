"""The sandbox's signed webhooks through ingest, as processes: customer messages of several types
(one from a click-to-WhatsApp ad) and a marketing stop land on their topics, keyed by
conversation, with the raw bodies journaled and nothing unparsed."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import aiohttp
import pytest

from shared.topics import (
    INBOUND_MESSAGES,
    TEMPLATE_UPDATES,
    USER_PREFERENCES,
    WEBHOOKS_RAW,
    WEBHOOKS_UNPARSED,
)
from tests.e2e.conftest import System
from tests.services.ingest.topics import read_all, records_eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PNID = "106540352242922"
CUSTOMER = "16505551234"
MESSAGES: list[dict[str, Any]] = [
    {
        "type": "text",
        "text": "Saw your ad, is it in stock?",
        "referral": {"source_id": "120207", "headline": "Winter sale", "ctwa_clid": "ARAk"},
    },
    {"type": "location", "location": {"latitude": 38.9, "longitude": -77.03, "name": "Office"}},
    {"type": "image", "image": {"caption": "this one"}},
]


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with session.post(url, json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def _accepted(session: aiohttp.ClientSession, system: System) -> float:
    async with session.get(f"{system.url('ingest')}/metrics") as resp:
        text = await resp.text()
    found = re.search(r'^wagate_ingest_webhooks_total\{outcome="accepted"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_sandbox_webhooks_become_events_on_their_topics(system: System) -> None:
    sandbox = system.url("sandbox")
    async with aiohttp.ClientSession() as session:
        wamids = [
            (
                await _post(
                    session,
                    f"{sandbox}/sandbox/customer-messages",
                    {"phone_number_id": PNID, "from": CUSTOMER, **m},
                )
            )["id"]
            for m in MESSAGES
        ]
        await _post(
            session,
            f"{sandbox}/_sandbox/user-preferences",
            {"phone_number_id": PNID, "wa_id": CUSTOMER, "value": "stop"},
        )
        deadline = time.monotonic() + 60
        while await _accepted(session, system) < len(MESSAGES) + 1:
            if time.monotonic() > deadline:
                pytest.fail(f"ingest did not accept the webhooks:\n{system.log_tail('ingest')}")
            await asyncio.sleep(0.3)

    inbound = {m["message_id"]: m for m in await read_all(system.kafka, INBOUND_MESSAGES)}
    assert sorted(inbound) == sorted(wamids)
    assert {m["_key"] for m in inbound.values()} == {f"{PNID}:{CUSTOMER}"}
    assert [inbound[w]["message_type"] for w in wamids] == ["text", "location", "image"]
    assert inbound[wamids[0]]["referral"]["ctwa_clid"] == "ARAk"
    assert inbound[wamids[1]]["content"]["name"] == "Office"
    assert inbound[wamids[2]]["content"]["caption"] == "this one"
    (stop,) = await read_all(system.kafka, USER_PREFERENCES)
    assert (stop["wa_id"], stop["value"], stop["_key"]) == (CUSTOMER, "stop", f"{PNID}:{CUSTOMER}")
    journal = await read_all(system.kafka, WEBHOOKS_RAW)
    assert len(journal) >= len(MESSAGES) + 1
    assert all(CUSTOMER in j["body"] for j in journal)
    assert await read_all(system.kafka, WEBHOOKS_UNPARSED) == []
    assert CUSTOMER not in (system.logs / "ingest.log").read_text()


async def test_template_webhooks_become_template_updates(system: System) -> None:
    sandbox, waba = system.url("sandbox"), "100000000000001"
    template = {
        "name": "order_shipped",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Your order {{1}} has shipped.",
                "example": {"body_text": [["A-1042"]]},
            }
        ],
    }
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer sandbox-token"}) as session:
        created = await _post(session, f"{sandbox}/v21.0/{waba}/message_templates", template)
        await _post(session, f"{sandbox}/_sandbox/templates/{created['id']}/review", {})
        await _post(
            session, f"{sandbox}/_sandbox/templates/{created['id']}/quality", {"score": "YELLOW"}
        )

    updates = await records_eventually(
        system.kafka, TEMPLATE_UPDATES, 2, lambda: system.log_tail("ingest")
    )

    assert {u["_key"] for u in updates} == {f"{waba}:{created['id']}"}
    assert {(u["kind"], u["event"], u["new_quality_score"]) for u in updates} >= {
        ("status", "APPROVED", None),
        ("quality", None, "YELLOW"),
    }
    assert {u["language"] for u in updates} == {"en_US"}
    assert await read_all(system.kafka, WEBHOOKS_UNPARSED) == []
