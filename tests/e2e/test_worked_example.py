"""The contract's worked example, run as a real business system against the wired system."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from examples.order_notifications import notify, shipped
from shared.client import WagateClient
from shared.events.consent import ConsentChanged
from shared.events.keys import conversation_key
from shared.media_upload import inline_samples
from shared.messaging import Publisher, make_producer
from shared.topics import CONSENT
from tests.conftest import ROOT
from tests.e2e.conftest import System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
SANDBOX_WABA = "100000000000001"


async def test_the_example_answers_a_customer_inside_the_window(system: System) -> None:
    example = subprocess.Popen(
        [
            sys.executable,
            "examples/order_notifications.py",
            "--bootstrap",
            system.kafka.bootstrap,
            "--topic-prefix",
            system.kafka.topic_prefix,
            "answer",
            "--from",
            PHONE_NUMBER_ID,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with WagateClient(system.kafka) as client, client.follow() as updates:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{system.url('sandbox')}/sandbox/customer-messages",
                    json={
                        "phone_number_id": PHONE_NUMBER_ID,
                        "from": "16505550777",
                        "text": "Where is my parcel?",
                        "name": "Ana",
                    },
                ) as resp,
            ):
                wamid = (await resp.json())["id"]
            states: list[str] = []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(120):
                    async for update in updates:
                        if update.intent_id == f"answer-{wamid}":
                            states.append(update.state)
                            if update.terminal:
                                break
    finally:
        example.terminate()
        output = example.communicate(timeout=30)[0].decode()
    logs = "\n".join(f"--- {s}\n{system.log_tail(s, 15)}" for s in ("policy", "dispatch"))
    assert states and states[0] == "accepted", f"{states}\n{output}\n{logs}"
    assert states[-1] == "delivered", states
    assert f"answered {wamid}" in output


async def _approved_starter_template(system: System, name: str) -> None:
    """Create a starter template through the templates service and wait for Meta's approval."""
    folder = ROOT / "examples" / "templates"  # media header samples travel inline
    body = inline_samples(json.loads((folder / f"{name}.en_US.json").read_text()), folder)
    headers = {"Authorization": "Bearer wagate-dev-key"}
    url = f"{system.url('templates')}/v1/templates"
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(url, json={**body, "waba_id": SANDBOX_WABA}) as resp:
            assert resp.status in (200, 201), await resp.text()
        async with asyncio.timeout(90):
            while True:
                async with session.get(f"{url}/{SANDBOX_WABA}/{name}/en_US") as resp:
                    if (await resp.json()).get("status") == "APPROVED":
                        return
                await asyncio.sleep(0.5)


async def _opted_in(system: System, customer: str) -> None:
    opt_in = ConsentChanged(
        customer=customer,
        phone_number_id=PHONE_NUMBER_ID,
        category="utility",
        opted_in=True,
        occurred_at=datetime.now(UTC) - timedelta(days=1),
        source="order form",
    )
    producer = make_producer(system.kafka, "shop")
    await producer.start()
    try:
        await Publisher(producer, system.kafka).publish(
            CONSENT, opt_in, key=conversation_key(PHONE_NUMBER_ID, customer)
        )
    finally:
        await producer.stop()
    await _wait_metric(
        system, "policy", 'wagate_policy_consent_updated_total{source="business"}', 1
    )


async def test_the_example_notifies_free_form_in_the_window_and_by_template_outside(
    system: System,
) -> None:
    await _approved_starter_template(system, "shipping_update")
    await asyncio.sleep(3)  # the approved state reaches policy through its topic
    inside, outside = "16505550811", "16505550822"
    await system.customer_writes(PHONE_NUMBER_ID, inside, "Any news?")
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 1)

    free_form = shipped(PHONE_NUMBER_ID, inside, "A-1", "Ana")
    by_template = shipped(PHONE_NUMBER_ID, outside, "A-2", "Bo")
    await _opted_in(system, outside)  # a template goes only to a customer who opted in
    assert await notify(system.kafka, free_form) == "delivered"
    assert await notify(system.kafka, by_template) == "delivered"

    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.url('sandbox')}/_sandbox/messages") as resp,
    ):
        sent = {(m["recipient"], m["kind"]) for m in (await resp.json())["sent"]}
    assert sent == {(inside, "text"), (outside, "template")}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.url('sandbox')}/sandbox/violations") as resp,
    ):
        assert (await resp.json())["count"] == 0
