"""One intent, one trace, across the wired services: from the business's own `traceparent` on
the intent, through policy, dispatch, the Cloud API request, and each status Meta reports
(whose webhook brings no trace context: dispatch continues the intent's trace from the ledger),
to the delivery updates, which carry it back. And every log line of every service is JSON."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from shared import codec
from shared.client import WagateClient
from shared.events.delivery import DeliveryUpdated
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.events.keys import conversation_key
from shared.messaging import Publisher, make_producer, make_reader, partitions_of
from shared.topics import DELIVERY, INTENTS
from tests.e2e.conftest import SERVICES, System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.traced, pytest.mark.timeout(300)]
CUSTOMER = "16505554321"
Span = dict[str, Any]


def _spans(folder: Path) -> list[Span]:
    found: list[Span] = []
    for path in folder.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            span = json.loads(line)
            span["service"] = span["resource"]["attributes"]["service.name"]
            found.append(span)
    return found


async def _until(folder: Path, enough: Callable[[list[Span]], bool]) -> list[Span]:
    """The spans written so far, once `enough` holds (spans are written as they end)."""
    deadline = time.monotonic() + 60
    while True:
        spans = _spans(folder)
        if enough(spans) or time.monotonic() > deadline:
            return spans
        await asyncio.sleep(0.5)


async def _delivery_records(system: System, intent_id: str) -> list[ConsumerRecord[Any, Any]]:
    topic = system.kafka.topic(DELIVERY.name)
    reader = make_reader(system.kafka)
    await reader.start()
    try:
        reader.assign([TopicPartition(topic, p) for p in await partitions_of(system.kafka, topic)])
        await reader.seek_to_beginning()
        records = []
        for batch in (await reader.getmany(timeout_ms=3000)).values():
            records.extend(
                r for r in batch if codec.decode(DeliveryUpdated, r.value).intent_id == intent_id
            )
        return records
    finally:
        await reader.stop()


async def _send_with_business_trace(
    system: System, trace_id: int, span_id: int
) -> tuple[str, list[str]]:
    """The intent produced as a business system tracing its own work would: its traceparent
    in the record's headers. Returns the intent id and the states it went through."""
    intent = OutboundIntentSubmitted(
        intent_id=f"traced-{uuid.uuid4()}",
        phone_number_id=PHONE_NUMBER_ID,
        to=CUSTOMER,
        content=TextContent(body="Your parcel left the warehouse."),
        priority="reply",
    )
    traceparent = f"00-{trace_id:032x}-{span_id:016x}-01".encode()
    producer = make_producer(system.kafka, "business")
    await producer.start()
    states: list[str] = []
    try:
        async with WagateClient(system.kafka) as client, client.follow([intent.intent_id]) as ups:
            key = conversation_key(intent.phone_number_id, intent.to)
            await Publisher(producer, system.kafka).publish(
                INTENTS, intent, key, [("traceparent", traceparent)]
            )
            async with asyncio.timeout(90):
                async for update in ups:
                    states.append(update.state)
                    if update.state == "delivered":
                        break
    finally:
        await producer.stop()
    return intent.intent_id, states


def _hex(value: int, width: int) -> str:
    return f"0x{value:0{width}x}"


async def test_one_intent_is_one_trace_across_the_services(system: System) -> None:
    assert system.spans is not None
    await system.customer_writes(PHONE_NUMBER_ID, CUSTOMER, "Any news?")
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 1)
    trace_id, business_span = random.getrandbits(128), random.getrandbits(64)
    intent_id, states = await _send_with_business_trace(system, trace_id, business_span)
    assert states[0] == "accepted" and states[-1] == "delivered", states
    trace = _hex(trace_id, 32)
    prefix = system.kafka.topic_prefix

    def named(spans: list[Span], service: str, name: str) -> list[Span]:
        return [
            s
            for s in spans
            if s["service"] == f"wagate-{service}"
            and s["name"] == name
            and s["context"]["trace_id"] == trace
        ]

    def complete(spans: list[Span]) -> bool:
        """Spans end inner first: wait for the outer ones (the statuses' consumer spans)."""
        ended = {s["context"]["span_id"] for s in spans}
        updates = named(spans, "dispatch", f"{prefix}wagate.delivery.v1 send")
        statuses = named(spans, "dispatch", "status")
        linked = {link["context"]["span_id"] for s in statuses for link in s["links"]}
        return len(updates) >= len(states) and len(statuses) >= 2 and linked <= ended

    spans = await _until(system.spans, complete)
    by_id = {s["context"]["span_id"]: s for s in spans}

    def parent(span: Span) -> Span:
        return by_id[span["parent_id"]]

    [policy_in] = named(spans, "policy", f"{prefix}wagate.intents.v1 process")
    assert policy_in["parent_id"] == _hex(business_span, 16)  # the business's span is the parent
    [decided] = named(spans, "policy", f"{prefix}wagate.decisions.v1 send")
    assert parent(decided) is policy_in
    [dispatch_in] = named(spans, "dispatch", f"{prefix}wagate.decisions.v1 process")
    assert parent(dispatch_in) is decided
    [send] = named(spans, "dispatch", "send")
    assert parent(send) is dispatch_in and send["attributes"]["intent_id"] == intent_id
    [request] = [s for s in named(spans, "dispatch", "POST") if parent(s) is send]
    assert request["kind"] == "SpanKind.CLIENT"
    assert f"/{PHONE_NUMBER_ID}/messages" in json.dumps(request["attributes"])
    served = [s for s in spans if s["service"] == "wagate-sandbox" and s["kind"].endswith("SERVER")]
    assert [parent(s) for s in served if s["context"]["trace_id"] == trace] == [request]

    statuses = named(spans, "dispatch", "status")
    assert len(statuses) >= 2  # sent, delivered (and whatever else Meta reported)
    for status in statuses:
        assert parent(status) is dispatch_in
        [link] = status["links"]
        consumed = by_id[link["context"]["span_id"]]  # the status as dispatch read it
        assert consumed["name"] == f"{prefix}wagate.statuses.v1 process"
        webhook = by_id[consumed["parent_id"]]
        while webhook["service"] != "wagate-ingest" or webhook["kind"] != "SpanKind.SERVER":
            webhook = by_id[webhook["parent_id"]]
        assert webhook["context"]["trace_id"] != trace  # Meta's webhook brought no context
        assert webhook["attributes"].get("url.path", webhook["attributes"].get("http.target"))
    updates = named(spans, "dispatch", f"{prefix}wagate.delivery.v1 send")
    assert {parent(u)["name"] for u in updates} <= {"send", "status"}

    key = decided["attributes"]["messaging.kafka.message.key"]
    assert key == f"{PHONE_NUMBER_ID}:{CUSTOMER[:2]}***{CUSTOMER[-2:]}"
    assert [s for s in named(spans, "dispatch", "INSERT") if parent(s) is dispatch_in]
    assert CUSTOMER not in json.dumps(spans)  # not in a key, a URL, nor a statement's parameters

    records = await _delivery_records(system, intent_id)
    assert [codec.decode(DeliveryUpdated, r.value).state for r in records] == states
    for record in records:
        [value] = [v for k, v in record.headers if k == "traceparent"]
        assert value.decode().split("-")[1] == f"{trace_id:032x}"  # the business sees its trace

    for service in SERVICES:
        for line in (system.logs / f"{service}.log").read_text().splitlines():
            assert isinstance(json.loads(line), dict), f"{service}: {line}"
