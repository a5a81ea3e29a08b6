"""Fallbacks through the wired system and the sandbox: a free-form intent whose window closes
before it is sent, or that Meta refuses with 131047 in a failed status, goes out as its
fallback only when policy approves that fallback now; a paused fallback is not sent and the
update says why; a one-time code in a fallback reaches the customer and is nowhere in clear."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from shared import codec
from shared.client import WagateClient
from shared.events.decisions import PolicyDecisionMade
from shared.events.delivery import DeliveryUpdated
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.media_upload import inline_samples
from shared.topics import DECISIONS, DELIVERY
from tests.conftest import ROOT
from tests.e2e.conftest import System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]
WABA = "100000000000001"
CODE = "739201"
SHIPPING = [
    {"type": "header", "parameters": [{"type": "text", "text": "A-1042"}]},
    {
        "type": "body",
        "parameters": [{"type": "text", "text": t} for t in ("Ana", "A-1042", "May 5")],
    },
    {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "A-1042"}],
    },
]


def passcode(code: str) -> list[dict[str, Any]]:
    """one_time_passcode's components: the code in the body and as the button's suffix."""
    return [
        {"type": "body", "parameters": [{"type": "text", "text": code}]},
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": code}],
        },
    ]


OTP = passcode(CODE)


@pytest.fixture
def system_env() -> dict[str, str]:
    # retries outlast the seconds a window is kept closing; no unknown outcome guessed here
    return {"DISPATCH_RETRY__MAX_ATTEMPTS": "60", "DISPATCH_RETRY__CAP_S": "1"}


@asynccontextmanager
async def _templates(system: System) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=system.url("templates"), headers={"Authorization": "Bearer wagate-dev-key"}
    ) as session:
        yield session


async def template_in(
    system: System, name: str, language: str, status: str = "APPROVED", *, review: bool = False
) -> None:
    """A starter template created through the templates service and left in `status`
    (APPROVED, PAUSED or PENDING) at the sandbox; `review`: the sandbox reviews only when
    told. Returns once the templates service has that status."""
    folder = ROOT / "examples" / "templates"
    body = inline_samples(json.loads((folder / f"{name}.{language}.json").read_text()), folder)
    async with _templates(system) as session:
        async with session.post("/v1/templates", json={**body, "waba_id": WABA}) as resp:
            assert resp.status in (200, 201), await resp.text()
        if status == "PENDING":
            return await _until_status(session, name, language, "PENDING")
        if review:
            await _act(system, name, language, "review")
        await _until_status(session, name, language, "APPROVED")
        if status == "PAUSED":
            await _act(system, name, language, "pause")
            await _until_status(session, name, language, "PAUSED")


async def _act(system: System, name: str, language: str, action: str) -> None:
    """Act on a template as Meta (`/_sandbox/templates/{id}/{action}`)."""
    listed = await sandbox(system, "GET", "/_sandbox/templates")
    [found] = [t for t in listed["data"] if t["name"] == name and t["language"] == language]
    await sandbox(system, "POST", f"/_sandbox/templates/{found['id']}/{action}")


async def _until_status(
    session: aiohttp.ClientSession, name: str, language: str, status: str
) -> None:
    async with asyncio.timeout(90):
        while True:
            async with session.get(f"/v1/templates/{WABA}/{name}/{language}") as resp:
                if (await resp.json()).get("status") == status:
                    return
            await asyncio.sleep(0.3)


async def customer_writes(system: System, customer: str, at: datetime, text: str = "hi") -> None:
    body = {"phone_number_id": PHONE_NUMBER_ID, "from": customer, "text": text}
    body["timestamp"] = at.isoformat()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{system.url('sandbox')}/_sandbox/customer-messages", json=body) as resp,
    ):
        assert resp.status == 200, await resp.text()


async def sandbox(system: System, method: str, path: str, body: Any = None) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{system.url('sandbox')}{path}", json=body) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def records(system: System, topic_name: str) -> list[bytes]:
    """Every record on one of the system's topics, raw."""
    consumer = AIOKafkaConsumer(
        system.kafka.topic(topic_name),
        bootstrap_servers=system.kafka.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    out: list[bytes] = []
    try:
        while batches := await consumer.getmany(timeout_ms=3000):
            out += [r.value for rs in batches.values() for r in rs if r.value is not None]
    finally:
        await consumer.stop()
    return out


def _reply(intent_id: str, to: str, fallback: TemplateContent) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=intent_id,
        phone_number_id=PHONE_NUMBER_ID,
        to=to,
        content=TextContent(body="Your parcel left this morning."),
        fallback_template=fallback,
        priority="reply",
    )


def _shipping(language: str) -> TemplateContent:
    return TemplateContent(name="shipping_update", language=language, components=SHIPPING)


async def _outcomes(
    client: WagateClient, intents: list[OutboundIntentSubmitted]
) -> dict[str, list[DeliveryUpdated]]:
    """Each intent's updates until all have ended."""
    got: dict[str, list[DeliveryUpdated]] = {i.intent_id: [] for i in intents}
    async with client.follow(list(got)) as stream:
        for intent in intents:
            await client.send(intent)
        async with asyncio.timeout(180):
            async for update in stream:
                if update.event_id not in {u.event_id for u in got[update.intent_id]}:
                    got[update.intent_id].append(update)
                if all(any(u.terminal for u in us) for us in got.values()):
                    return got
    return got


async def test_a_fallback_goes_out_only_as_policy_approves_it_now(system: System) -> None:
    await template_in(system, "shipping_update", "en_US")
    await template_in(system, "shipping_update", "es", status="PAUSED")
    await template_in(system, "one_time_passcode", "en_US")
    closing, paused, refused, coded = "16505550101", "16505550102", "16505550103", "16505550104"
    opt_ins = [(c, "utility") for c in (closing, paused, refused)] + [(coded, "authentication")]
    await system.opted_in(PHONE_NUMBER_ID, *opt_ins)  # every template needs its opt-in
    await asyncio.sleep(3)  # the template states reach policy through their topic

    # 1. the window closes between decision and send (every send refused for a while)
    soon = datetime.now(UTC) - timedelta(hours=24) + timedelta(seconds=60 + 12)
    for customer in (closing, paused):
        await customer_writes(system, customer, soon)
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 2)
    await sandbox(system, "PUT", "/_sandbox/faults", {"server_error_rate": 1})
    first = [
        _reply("closing", closing, _shipping("en_US")),
        _reply("paused", paused, _shipping("es")),  # paused at Meta
    ]
    started = time.monotonic()
    async with WagateClient(system.kafka) as client:
        sending = asyncio.create_task(_outcomes(client, first))
        await asyncio.sleep(max(0.0, 16 - (time.monotonic() - started)))  # the window closed
        await sandbox(system, "PUT", "/_sandbox/faults", {})
        ended = await sending

        # 2. Meta refuses the free-form message in a failed status (131047)
        for customer in (refused, coded):
            await customer_writes(system, customer, datetime.now(UTC) - timedelta(minutes=5))
        await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 4)
        await sandbox(system, "PUT", "/_sandbox/faults", {"reengage_rate": 1})
        second = [
            _reply("refused", refused, _shipping("en_US")),
            _reply(
                "coded",
                coded,
                TemplateContent(name="one_time_passcode", language="en_US", components=OTP),
            ),
        ]
        ended |= await _outcomes(client, second)
        await sandbox(system, "PUT", "/_sandbox/faults", {})

    states = {i: [u.state for u in us] for i, us in ended.items()}
    assert states["closing"][-1] == "delivered", states
    assert states["paused"] == ["rejected"], states
    assert ended["paused"][0].reasons == ["TEMPLATE_PAUSED"]
    assert states["refused"][-1] == "delivered" and states["coded"][-1] == "delivered", states
    assert states["refused"].count("accepted") == 2  # the refused text, then its fallback

    traffic = (await sandbox(system, "GET", "/_sandbox/messages"))["sent"]
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for message in traffic:
        by_customer.setdefault(message["recipient"], []).append(message)
    assert [m["kind"] for m in by_customer[closing]] == ["template"]  # never the late text
    assert paused not in by_customer
    assert [(m["kind"], m["error"]) for m in by_customer[refused]] == [
        ("text", 131047),
        ("template", None),
    ]
    [otp] = [m for m in by_customer[coded] if m["kind"] == "template"]
    received = json.dumps(otp["message"])
    assert CODE in received and "[redacted]" not in received and "sensitive" not in received
    assert (await sandbox(system, "GET", "/_sandbox/violations"))["count"] == 0

    decisions = [codec.decode(PolicyDecisionMade, r) for r in await records(system, DECISIONS.name)]
    fresh = {d.intent.intent_id: d for d in decisions if d.intent.redecision is not None}
    assert (
        fresh["closing"].outcome == "approved" and "FALLBACK_TEMPLATE" in fresh["closing"].reasons
    )
    assert fresh["closing"].intent.redecision.reason == "APPROVAL_EXPIRED"  # type: ignore[union-attr]
    assert fresh["refused"].intent.redecision.reason == "131047"  # type: ignore[union-attr]
    assert fresh["paused"].outcome == "rejected"
    # the code is nowhere in clear: decisions, delivery updates, the ledger
    for raw in [*await records(system, DECISIONS.name), *await records(system, DELIVERY.name)]:
        assert CODE.encode() not in raw
    conn = await asyncpg.connect(system.database_url)
    try:
        rows = await conn.fetch("SELECT row_to_json(d)::text AS r FROM dispatch_intents d")
    finally:
        await conn.close()
    assert rows and all(CODE not in r["r"] for r in rows)
