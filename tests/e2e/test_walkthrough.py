"""The README's walkthrough: a customer writes, the reply inside the window is delivered,
a message to a customer with no open window is rejected with its reason."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import aiohttp
import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import codec
from shared.client import WagateClient
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.events.windows import WindowChanged
from shared.messaging import partitions_of
from shared.topics import WINDOWS
from tests.e2e.conftest import System

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PHONE_NUMBER_ID = "106540352242922"


async def _metric(session: aiohttp.ClientSession, url: str, name: str) -> float:
    async with session.get(f"{url}/metrics") as resp:
        text = await resp.text()
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def _wait_metric(system: System, service: str, name: str, at_least: float) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if await _metric(session, system.url(service), name) >= at_least:
                return
            await asyncio.sleep(0.2)
    pytest.fail(f"{service} metric {name} never reached {at_least}:\n{system.log_tail(service)}")


async def _window_changes(system: System) -> list[WindowChanged]:
    topic = system.kafka.topic(WINDOWS.name)
    consumer = AIOKafkaConsumer(bootstrap_servers=system.kafka.bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign(
            [TopicPartition(topic, p) for p in await partitions_of(system.kafka, topic)]
        )
        await consumer.seek_to_beginning()
        batches = await consumer.getmany(timeout_ms=3000)
        return [codec.decode(WindowChanged, r.value) for rs in batches.values() for r in rs]
    finally:
        await consumer.stop()


def _text(to: str, body: str) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=f"e2e-{uuid.uuid4()}",
        phone_number_id=PHONE_NUMBER_ID,
        to=to,
        content=TextContent(body=body),
        priority="reply",
    )


async def test_reply_in_window_is_delivered_and_outside_is_rejected(system: System) -> None:
    customer, stranger = "16505551234", "16505559876"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{system.url('sandbox')}/sandbox/customer-messages",
            json={
                "phone_number_id": PHONE_NUMBER_ID,
                "from": customer,
                "text": "Is my order shipped?",
            },
        ) as resp,
    ):
        assert resp.status == 200
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 1)

    async with WagateClient(system.kafka) as client:
        reply = _text(customer, "Yes, it left the warehouse this morning.")
        updates = await client.send_and_wait(reply, timeout_s=60)
        late = _text(stranger, "Hello there!")
        refused = await client.send_and_wait(late, timeout_s=60)

    states = [u.state for u in updates]
    assert states[0] == "accepted" and states[-1] == "delivered", states
    assert len({u.wamid for u in updates}) == 1 and updates[0].wamid
    sent = next(u for u in updates if u.state == "sent")
    assert sent.pricing is not None and sent.pricing["category"] == "service"
    assert [u.state for u in refused] == ["rejected"]
    assert refused[0].reasons == ["WINDOW_CLOSED"]
    assert "24-hour window" in refused[0].detail

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.url('sandbox')}/sandbox/violations") as resp,
    ):
        assert (await resp.json())["count"] == 0

    conn = await asyncpg.connect(system.database_url)
    try:
        rows = {r["intent_id"]: r for r in await conn.fetch("SELECT * FROM dispatch_intents")}
    finally:
        await conn.close()
    assert rows[reply.intent_id]["state"] == "delivered"
    assert rows[reply.intent_id]["wamid"] == updates[0].wamid
    assert rows[late.intent_id]["state"] == "rejected"
