"""Consent through the wired system and the sandbox: a STOP on one number of a business stops its
other numbers; a template to a customer without an opt-in is rejected until `wagate consent
import` records one; a customer's stop outranks a later opt-in until START; an opt-out quick
reply stops marketing. And nothing vanishes: an intent policy fails to decide ends rejected with
INTERNAL_ERROR, hostile records are dead-lettered, and the partitions go on."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from examples.order_notifications import shipped
from shared import deadletters
from shared.client import WagateClient
from shared.events.consent import ConsentChanged
from shared.events.delivery import DeliveryUpdated
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.keys import conversation_key
from shared.messaging import Publisher, make_producer, partitions_of
from shared.topics import CONSENT, DEAD_LETTERS, INTENTS
from tests.e2e.conftest import System
from tests.e2e.test_worked_example import _approved_starter_template

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
SHOP, DESK = "106540352242922", "106540352242933"  # two numbers of the sandbox's one WABA
WAGATE = str(Path(sys.executable).parent / "wagate")


def shipping_update(order: str) -> TemplateContent:
    """The starter template `shipping_update` as the worked example fills it."""
    template = shipped(SHOP, "1", order, "Ana").fallback_template
    assert template is not None
    return TemplateContent.model_validate(template.model_dump())  # the client's model, as ours


LOYALTY = TemplateContent(
    name="loyalty_follow_up",
    language="en_US",
    components=[
        {
            "type": "header",
            "parameters": [{"type": "video", "video": {"link": "https://example.com/clip.mp4"}}],
        },
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "15%"}],
        },
    ],
)


async def metric(system: System, name: str, **labels: str) -> float:
    shown = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    line = f"{name}{{{shown}}}" if labels else name
    pattern = rf"^{re.escape(line)} ([0-9.e+]+)$"
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.url('policy')}/metrics") as resp,
    ):
        found = re.search(pattern, await resp.text(), re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def until(
    system: System, check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 60
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.3)
    pytest.fail(f"{what} never happened:\n{system.log_tail('policy')}")


async def counted(system: System, at_least: float, name: str, **labels: str) -> None:
    async def reached() -> bool:
        return await metric(system, name, **labels) >= at_least

    await until(system, reached, f"{name}{labels} >= {at_least}")


async def customer_writes(system: System, number: str, customer: str, **message: Any) -> str:
    body = {"phone_number_id": number, "from": customer, **message}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{system.url('sandbox')}/sandbox/customer-messages", json=body) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["id"])


def import_opt_ins(system: System, tmp_path: Path, *rows: str) -> dict[str, Any]:
    path = tmp_path / f"optins-{uuid.uuid4().hex[:6]}.csv"
    path.write_text("phone_number_id,customer,category,opted_in,at,source\n" + "".join(rows))
    done = subprocess.run(
        [
            WAGATE,
            "--bootstrap",
            system.kafka.bootstrap,
            "--topic-prefix",
            system.kafka.topic_prefix,
            "consent",
            "import",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def now_iso(seconds_ago: float = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


async def send(
    system: System, number: str, to: str, content: TemplateContent | TextContent
) -> list[DeliveryUpdated]:
    intent = OutboundIntentSubmitted(
        intent_id=f"e2e-{uuid.uuid4()}", phone_number_id=number, to=to, content=content
    )
    async with WagateClient(system.kafka) as client:
        return await client.send_and_wait(intent, timeout_s=90)


def outcome(updates: list[DeliveryUpdated]) -> tuple[str, list[str]]:
    assert updates, "no delivery update"
    return updates[-1].state, updates[-1].reasons


async def templates_ready(system: System, *names: str) -> None:
    for name in names:
        await _approved_starter_template(system, name)
    await counted(system, len(names), "wagate_policy_template_states_total")


async def no_violations(system: System) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.url('sandbox')}/sandbox/violations") as resp,
    ):
        assert (await resp.json())["count"] == 0


async def test_consent_is_the_businesss_and_a_template_needs_a_recorded_opt_in(
    system: System, tmp_path: Path
) -> None:
    await templates_ready(system, "shipping_update")
    ana, bo = "447700900101", "447700900102"

    # no opt-in recorded: refused, whichever number sends; after the import it goes out
    assert outcome(await send(system, DESK, bo, shipping_update("A-1"))) == (
        "rejected",
        ["NO_OPT_IN"],
    )
    summary = import_opt_ins(
        system,
        tmp_path,
        f"{SHOP},+{ana},all,true,{now_iso(3600)},signup form\n",
        f"{SHOP},{bo},utility,true,{now_iso(3600)},order form\n",
    )
    assert summary == {
        "file": summary["file"],
        "rows": 2,
        "produced": 2,
        "opted_in": 2,
        "opted_out": 0,
        "by_category": {"all": 1, "utility": 1},
        "customers": 2,
    }
    await counted(system, 2, "wagate_policy_consent_updated_total", source="business")
    assert outcome(await send(system, DESK, bo, shipping_update("A-2")))[0] == "delivered"
    assert outcome(await send(system, DESK, ana, shipping_update("A-3")))[0] == "delivered"

    # a STOP typed to one number stops templates from the business's other number
    await customer_writes(system, SHOP, ana, text="STOP")
    await counted(system, 1, "wagate_policy_consent_updated_total", source="keyword")
    refused = await send(system, DESK, ana, shipping_update("A-4"))
    assert outcome(refused) == ("rejected", ["OPTED_OUT"])
    assert "keyword 'stop'" in refused[-1].detail and f"to {SHOP}" in refused[-1].detail
    assert outcome(await send(system, DESK, bo, shipping_update("A-5")))[0] == "delivered"
    # a reply inside the window the STOP opened is not business-initiated: it goes
    reply = await send(system, SHOP, ana, TextContent(body="You will get no more messages."))
    assert outcome(reply)[0] == "delivered"
    await no_violations(system)


async def test_a_customers_stop_outranks_a_later_opt_in_and_a_quick_reply_stops_marketing(
    system: System, tmp_path: Path
) -> None:
    await templates_ready(system, "shipping_update", "loyalty_follow_up")
    cy, di = "447700900201", "447700900202"

    await customer_writes(system, SHOP, cy, text="Stop")
    await counted(system, 1, "wagate_policy_consent_updated_total", source="keyword")
    await asyncio.sleep(1.1)  # the opt-in comes a clear second after the stop
    import_opt_ins(system, tmp_path, f"{SHOP},{cy},all,true,{now_iso()},checkout form\n")
    await counted(system, 1, "wagate_policy_consent_updated_total", source="business")
    assert outcome(await send(system, DESK, cy, shipping_update("B-1"))) == (
        "rejected",
        ["OPTED_OUT"],
    )
    await customer_writes(system, DESK, cy, text="START")
    await counted(system, 2, "wagate_policy_consent_updated_total", source="keyword")
    assert outcome(await send(system, SHOP, cy, shipping_update("B-2")))[0] == "delivered"

    import_opt_ins(system, tmp_path, f"{SHOP},{di},all,true,{now_iso(60)},signup form\n")
    await counted(system, 2, "wagate_policy_consent_updated_total", source="business")
    promo = await send(system, SHOP, di, LOYALTY)
    assert outcome(promo)[0] == "delivered", promo
    await customer_writes(
        system,
        SHOP,
        di,
        type="button",
        button={"payload": "Stop promotions", "text": "Stop promotions"},
        context={"id": promo[0].wamid},
    )
    await counted(system, 1, "wagate_policy_consent_updated_total", source="quick_reply")
    again = await send(system, DESK, di, LOYALTY)
    assert outcome(again) == ("rejected", ["MARKETING_OPTED_OUT"])
    assert "quick reply 'stop promotions'" in again[-1].detail
    assert outcome(await send(system, DESK, di, shipping_update("B-3")))[0] == "delivered"
    await no_violations(system)


async def dead_letters(system: System) -> list[tuple[bytes | None, dict[str, bytes]]]:
    topic = system.kafka.topic(DEAD_LETTERS.name)
    consumer = AIOKafkaConsumer(bootstrap_servers=system.kafka.bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign(
            [TopicPartition(topic, p) for p in await partitions_of(system.kafka, topic)]
        )
        await consumer.seek_to_beginning()
        batches = await consumer.getmany(timeout_ms=3000)
        return [
            (r.key, {k: bytes(v) for k, v in r.headers})
            for records in batches.values()
            for r in records
        ]
    finally:
        await consumer.stop()


async def test_an_intent_policy_fails_to_decide_ends_rejected_and_hostile_records_go_aside(
    system: System,
) -> None:
    customer = "447700900301"
    key = conversation_key(SHOP, customer)
    crafted = OutboundIntentSubmitted(
        intent_id=f"crafted-{uuid.uuid4()}",
        phone_number_id=SHOP,
        to=customer,
        content=TemplateContent(
            name="shipping_update",
            language="en_US",
            components=[{"type": "body", "parameters": 5}],
        ),
    )
    producer = make_producer(system.kafka, "hostile")
    await producer.start()
    try:
        publisher = Publisher(producer, system.kafka)
        for value in (b"{not json", b'{"customer": "1"}'):  # not consent events at all
            await producer.send_and_wait(system.kafka.topic(CONSENT.name), value, key=key.encode())
        unknown_waba = ConsentChanged(
            customer=customer, waba_id="777", category="all", opted_in=True, source="crm"
        )
        await publisher.publish(CONSENT, unknown_waba, key=f"777:{customer}")
        await producer.send_and_wait(
            system.kafka.topic(INTENTS.name), b'{"intent_id": 5}', key=key.encode()
        )
    finally:
        await producer.stop()
    async with WagateClient(system.kafka) as client:
        failed = await client.send_and_wait(crafted, timeout_s=90)
    assert outcome(failed) == ("rejected", ["INTERNAL_ERROR"])
    assert "dead-letter topic" in failed[-1].detail
    # the partition goes on: the next intent of the same conversation is decided
    after = await send(system, SHOP, customer, TextContent(body="hello"))
    assert outcome(after) == ("rejected", ["WINDOW_CLOSED"])

    reasons = [h.get(deadletters.REASON, b"").decode() for _, h in await dead_letters(system)]
    assert any(r.startswith("deciding the intent failed: TypeError") for r in reasons), reasons
    assert any(r.startswith("not a valid ConsentChanged") for r in reasons), reasons
    assert any(r.startswith("not a valid OutboundIntentSubmitted") for r in reasons), reasons
    assert any("WABA 777 is not in policy's settings" in r for r in reasons), reasons
    assert await metric(system, "wagate_policy_dead_letters_total", agent="track_consent") == 3
