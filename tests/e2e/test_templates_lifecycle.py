"""Templates against the sandbox over the wired system: a template is submitted, reviewed,
approved, paused, unpaused and re-categorised, another is rejected; every change arrives as
Meta's webhook through ingest and is reflected in the registry and on the states topic."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.templates.starter import FOLDER
from shared import codec
from shared.events.template_states import TemplateStateChanged
from shared.messaging import partitions_of
from shared.topics import TEMPLATE_STATES
from tests.e2e.conftest import System

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
WABA = "100000000000001"  # the sandbox's account
AUTH = {"Authorization": "Bearer wagate-dev-key"}


async def _templates_on_sandbox(system: System) -> None:
    """The fixture leaves templates on the default Cloud API URL; point it at the sandbox."""
    system.env["TEMPLATES_CLOUD_API__BASE_URL"] = system.url("sandbox")
    system.env["TEMPLATES_GROUP"] = f"wagate-templates-{uuid.uuid4().hex[:8]}"
    await system.restart_killed("templates")


async def _until(
    system: System, session: aiohttp.ClientSession, path: str, check: Callable[[Any], bool]
) -> Any:
    deadline = time.monotonic() + 60
    got: Any = None
    while time.monotonic() < deadline:
        async with session.get(system.url("templates") + path, headers=AUTH) as resp:
            got = await resp.json()
        if check(got):
            return got
        await asyncio.sleep(0.3)
    pytest.fail(f"{path} never matched; last {got}:\n{system.log_tail('templates')}")


async def _control(
    session: aiohttp.ClientSession, system: System, meta_id: str, action: str, body: Any = None
) -> None:
    url = f"{system.url('sandbox')}/_sandbox/templates/{meta_id}/{action}"
    async with session.post(url, json=body or {}) as resp:
        assert resp.status == 200, await resp.text()


async def _last_states(system: System) -> dict[str, TemplateStateChanged]:
    topic = system.kafka.topic(TEMPLATE_STATES.name)
    consumer = AIOKafkaConsumer(bootstrap_servers=system.kafka.bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await partitions_of(system.kafka, topic)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning()
        latest: dict[str, TemplateStateChanged] = {}
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    latest[record.key.decode()] = codec.decode(TemplateStateChanged, record.value)
        return latest
    finally:
        await consumer.stop()


async def _states_when(system: System, key: str, category: str) -> dict[str, TemplateStateChanged]:
    """The states topic once it shows `key` in `category`: the registry publishes after it
    commits, and re-publishes what a broker hiccup kept off the topic, so wait for it."""
    deadline = time.monotonic() + 90
    states = await _last_states(system)
    while time.monotonic() < deadline:
        if key in states and states[key].category == category:
            return states
        await asyncio.sleep(1)
        states = await _last_states(system)
    pytest.fail(f"{key} never reached the states topic as {category}: {sorted(states)}")


async def test_a_template_from_submission_to_approval_pause_recategorisation_and_rejection(
    system: System,
) -> None:
    await _templates_on_sandbox(system)
    body = json.loads((FOLDER / "shipping_update.en_US.json").read_text())
    one = f"/v1/templates/{WABA}/shipping_update/en_US"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            system.url("templates") + "/v1/templates", json={**body, "waba_id": WABA}, headers=AUTH
        ) as resp:
            created = await resp.json()
        assert resp.status == 201 and created["status"] == "PENDING", created["last_error"]
        meta_id = created["meta_id"]

        await _until(system, session, one, lambda t: t["status"] == "APPROVED")
        await _control(session, system, meta_id, "pause")
        await _until(system, session, one, lambda t: t["status"] == "PAUSED")
        await _control(session, system, meta_id, "unpause")
        await _until(system, session, one, lambda t: t["status"] == "APPROVED")
        await _control(session, system, meta_id, "category", {"category": "MARKETING"})
        await _until(system, session, one, lambda t: t["category"] == "MARKETING")

        scam = {
            "waba_id": WABA,
            "name": "account_notice",
            "language": "en_US",
            "category": "UTILITY",
            "components": [
                {
                    "type": "BODY",
                    "text": "Hi {{1}}, this is not a scam: your account {{2}} was updated today.",
                    "example": {"body_text": [["Ana", "A-1"]]},
                }
            ],
        }
        async with session.post(
            system.url("templates") + "/v1/templates", json=scam, headers=AUTH
        ) as resp:
            assert resp.status == 201, await resp.text()
        rejected = await _until(
            system,
            session,
            f"/v1/templates/{WABA}/account_notice/en_US",
            lambda t: t["status"] == "REJECTED",
        )
        assert rejected["rejected_reason"]

        async with session.get(system.url("templates") + one + "/history", headers=AUTH) as resp:
            changes = [h["change"] for h in (await resp.json())["history"]]
        assert changes[:2] == ["created", "submitted"]
        assert {"webhook_status", "webhook_category"} <= set(changes)

    states = await _states_when(system, f"{WABA}:shipping_update:en_US", "MARKETING")
    shipped = states[f"{WABA}:shipping_update:en_US"]
    assert (shipped.status, shipped.category, shipped.meta_id) == ("APPROVED", "MARKETING", meta_id)
    assert shipped.parameters.header_count == 1 and shipped.parameters.body_count == 3
    assert [(b.index, b.sub_type) for b in shipped.parameters.buttons] == [(0, "url")]
    assert states[f"{WABA}:account_notice:en_US"].status == "REJECTED"
