"""The sandbox answers sends like the Cloud API and follows them with Meta's status webhooks,
called directly and over HTTP: windows, recipients, rates, billing, read receipts, paced
templates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from services.ingest.normalize import normalize
from services.sandbox.rules.template_model import Template
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.topics import INBOUND_MESSAGES, STATUSES
from tests.services.sandbox.conftest import (
    OTHER,
    StackFactory,
    approved_template,
    customer_writes,
    template_send,
    text_message,
    violations_of,
)
from tests.services.sandbox.rig import T0, Rig

PNID = "106540352242922"
CUSTOMER = "16505551234"
CANADA = "16045551234"  # +1 but not the US: marketing templates reach it
INTENT_ID = "gw:7f3c2a9e:order-860198"


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig()
    yield rig
    await rig.sandbox.close()


def _text(to: str = CUSTOMER, body: str = "Yes, it comes in blue too.") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
        "biz_opaque_callback_data": INTENT_ID,
    }


def _request_without(name: str) -> dict[str, Any]:
    return {k: v for k, v in _text().items() if k != name}


async def test_a_free_form_send_without_a_customer_message_fails_with_131047(rig: Rig) -> None:
    result = rig.sandbox.send(PNID, _text())

    assert result.status == 200
    wamid = result.body["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert result.body["messaging_product"] == "whatsapp"
    assert result.body["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]

    (webhook,) = await rig.webhooks(1)
    (status,) = rig.statuses()
    assert status["id"] == wamid
    assert status["status"] == "failed"
    assert status["recipient_id"] == CUSTOMER
    assert status["biz_opaque_callback_data"] == INTENT_ID
    assert [e["code"] for e in status["errors"]] == [131047]
    assert status["errors"][0]["title"] == "Re-engagement message"
    assert "24 hours" in status["errors"][0]["error_data"]["details"]
    assert webhook["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] == PNID

    (violation,) = rig.world.violations
    assert (violation.code, violation.wamid, violation.recipient) == (131047, wamid, CUSTOMER)
    assert (violation.phone_number_id, violation.at) == (PNID, T0)


async def test_a_reply_after_the_customer_wrote_is_sent_then_delivered(rig: Rig) -> None:
    inbound_wamid = rig.sandbox.customer_message(PNID, CUSTOMER, "Is it in blue?", "Sheena")
    rig.clock.now = T0 + timedelta(minutes=3)

    result = rig.sandbox.send(PNID, _text())

    assert result.status == 200
    wamid = result.body["messages"][0]["id"]
    assert wamid != inbound_wamid
    await rig.webhooks(3)
    statuses = rig.statuses()
    assert [s["status"] for s in statuses] == ["sent", "delivered"]
    assert {s["id"] for s in statuses} == {wamid}
    assert {s["biz_opaque_callback_data"] for s in statuses} == {INTENT_ID}
    assert all("errors" not in s for s in statuses)
    assert rig.world.violations == []


async def test_the_customer_message_webhook_is_what_ingest_understands(rig: Rig) -> None:
    inbound_wamid = rig.sandbox.customer_message(PNID, "+1 (650) 555-1234", "Is it blue?", "Sheena")

    (webhook,) = await rig.webhooks(1)
    out = normalize(webhook, "sandbox-test")

    assert out.unparsed == []
    ((topic, event, key),) = out.events
    assert topic is INBOUND_MESSAGES
    assert key == f"{PNID}:{CUSTOMER}"
    assert isinstance(event, InboundMessageReceived)
    assert (event.message_id, event.text, event.contact_name) == (
        inbound_wamid,
        "Is it blue?",
        "Sheena",
    )
    assert event.timestamp == T0


async def test_status_webhooks_are_what_ingest_understands(rig: Rig) -> None:
    rig.sandbox.customer_message(PNID, CUSTOMER, "Hello", "Sheena")
    wamid = rig.sandbox.send(PNID, _text()).body["messages"][0]["id"]

    payloads = await rig.webhooks(3)
    normalized = [normalize(p, "sandbox-test") for p in payloads[1:]]

    assert [n.unparsed for n in normalized] == [[], []]
    events = [item for n in normalized for item in n.events]
    assert [topic for topic, _, _ in events] == [STATUSES, STATUSES]
    assert [key for _, _, key in events] == [f"{PNID}:{CUSTOMER}"] * 2
    statuses = [event for _, event, _ in events]
    assert all(isinstance(e, MessageStatusReported) for e in statuses)
    assert [(e.status, e.message_id, e.biz_opaque_callback_data) for e in statuses] == [
        ("sent", wamid, INTENT_ID),
        ("delivered", wamid, INTENT_ID),
    ]


@pytest.mark.parametrize(
    ("elapsed", "outcome"),
    [
        pytest.param(timedelta(hours=23, minutes=59, seconds=59), "delivered", id="last-second"),
        pytest.param(timedelta(hours=24), "failed", id="exactly-24h-later"),
        pytest.param(timedelta(hours=30), "failed", id="window-closed"),
    ],
)
async def test_the_window_lasts_24_hours(rig: Rig, elapsed: timedelta, outcome: str) -> None:
    rig.sandbox.customer_message(PNID, CUSTOMER, "Hello", "Sheena")
    rig.clock.now = T0 + elapsed

    rig.sandbox.send(PNID, _text())

    await rig.webhooks(2 if outcome == "failed" else 3)
    assert rig.statuses()[-1]["status"] == outcome
    assert len(rig.world.violations) == (1 if outcome == "failed" else 0)


@pytest.mark.parametrize(
    ("customer", "to", "business", "ok"),
    [
        pytest.param(CUSTOMER, "+1 (650) 555-1234", PNID, True, id="same-customer-other-spelling"),
        pytest.param(CUSTOMER, "16505559876", PNID, False, id="another-customer"),
        pytest.param(CUSTOMER, CUSTOMER, "106540352242999", False, id="another-business-number"),
    ],
)
async def test_the_window_is_per_business_number_and_customer(
    rig: Rig, customer: str, to: str, business: str, ok: bool
) -> None:
    rig.sandbox.customer_message(PNID, customer, "Hello", "Sheena")

    result = rig.sandbox.send(business, _text(to=to))

    assert result.status == 200
    await rig.webhooks(3 if ok else 2)
    assert rig.statuses()[-1]["status"] == ("delivered" if ok else "failed")
    assert len(rig.world.violations) == (0 if ok else 1)


async def test_a_template_needs_no_window(rig: Rig) -> None:
    rig.world.templates["1"] = Template(
        id="1",
        name="order_confirmation",
        language="en_US",
        category="UTILITY",
        components=({"type": "BODY", "text": "Your order is confirmed."},),
        created_at=T0,
        status="APPROVED",
    )
    template = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": "order_confirmation", "language": {"code": "en_US"}},
        "biz_opaque_callback_data": INTENT_ID,
    }

    result = rig.sandbox.send(PNID, template)

    assert result.status == 200
    await rig.webhooks(2)
    assert [s["status"] for s in rig.statuses()] == ["sent", "delivered"]
    assert rig.world.violations == []


async def test_without_callback_data_statuses_carry_none(rig: Rig) -> None:
    rig.sandbox.customer_message(PNID, CUSTOMER, "Hello", "Sheena")

    rig.sandbox.send(PNID, _request_without("biz_opaque_callback_data"))

    await rig.webhooks(3)
    assert all("biz_opaque_callback_data" not in s for s in rig.statuses())


async def test_every_send_gets_its_own_wamid(rig: Rig) -> None:
    rig.sandbox.customer_message(PNID, CUSTOMER, "Hello", "Sheena")

    wamids = [rig.sandbox.send(PNID, _text()).body["messages"][0]["id"] for _ in range(5)]

    assert len(set(wamids)) == 5
    await rig.webhooks(11)


@pytest.mark.parametrize(
    ("payload", "details"),
    [
        pytest.param(_request_without("messaging_product"), "messaging_product", id="no-product"),
        pytest.param(_request_without("to"), "'to'", id="no-to"),
        pytest.param({**_text(), "type": "fax", "fax": {"body": "x"}}, "fax", id="unknown-type"),
        pytest.param(_text(body="x" * 4097), "4096", id="text-too-long"),
        pytest.param({**_text(), "text": {"body": ""}}, "text.body", id="empty-text"),
        pytest.param(_request_without("text"), "'text'", id="missing-type-object"),
        pytest.param(
            {**_request_without("text"), "type": "image"}, "'image'", id="missing-image-object"
        ),
    ],
)
async def test_an_invalid_request_gets_400_with_metas_error_body(
    rig: Rig, payload: dict[str, Any], details: str
) -> None:
    result = rig.sandbox.send(PNID, payload)

    assert result.status == 400
    error = result.body["error"]
    assert error["code"] == 100
    assert error["type"] == "OAuthException"
    assert error["message"].startswith("(#100)")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert details in error["error_data"]["details"]
    assert isinstance(error["fbtrace_id"], str)
    assert error["fbtrace_id"]
    assert await rig.webhooks(0) == []
    assert rig.world.sent == {}
    assert rig.world.violations == []


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer sandbox-token", True),
        (None, False),
        ("", False),
        ("sandbox-token", False),
        ("Bearer", False),
        ("Bearer ", False),
        ("Bearer wrong-token", False),
        ("Bearer sandbox-token-2", False),
        ("bearer sandbox-token", False),
        ("Basic c2FuZGJveDp0b2tlbg==", False),
        ("Token sandbox-token", False),
    ],
)
async def test_authorized_accepts_only_the_configured_bearer_token(
    rig: Rig, header: str | None, ok: bool
) -> None:
    assert rig.sandbox.authorized(header) is ok


async def test_close_cancels_pending_status_webhooks() -> None:
    rig = Rig(status_delay_s=60)
    rig.sandbox.customer_message(PNID, CUSTOMER, "Hello", "Sheena")
    rig.sandbox.send(PNID, _text())

    await asyncio.wait_for(rig.sandbox.close(), timeout=0.2)

    assert len(rig.sender.payloads) == 1
    assert rig.statuses() == []


async def test_a_reaction_gets_only_a_sent_status(rig: Rig) -> None:
    inbound = rig.sandbox.customer_message(PNID, CUSTOMER, "Thanks!", "Sheena")
    reaction = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "reaction",
        "reaction": {"message_id": inbound, "emoji": "👍"},
    }

    rig.sandbox.send(PNID, reaction)

    await rig.webhooks(2)
    assert [s["status"] for s in rig.statuses()] == ["sent"]


async def test_a_free_form_reply_in_the_window_is_not_billable(rig: Rig) -> None:
    rig.sandbox.customer_message(PNID, CUSTOMER, "Hello", "Sheena")

    rig.sandbox.send(PNID, _text())

    await rig.webhooks(3)
    free = {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    assert [s["pricing"] for s in rig.statuses()] == [free, free]


async def test_a_reply_in_the_window_is_sent_and_delivered_free(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await customer_writes(stack)
    status, sent = await stack.send({**text_message(), "biz_opaque_callback_data": "intent-9"})

    assert status == 200
    assert "message_status" not in sent["messages"][0]
    await stack.settle()
    assert all(stack.receiver.signed)
    statuses = stack.receiver.statuses()
    assert [s["status"] for s in statuses] == ["sent", "delivered"]
    assert {s["id"] for s in statuses} == {sent["messages"][0]["id"]}
    assert {s["biz_opaque_callback_data"] for s in statuses} == {"intent-9"}
    free = {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    assert [s["pricing"] for s in statuses] == [free, free]
    assert all("conversation" not in s for s in statuses)
    assert await violations_of(stack) == []


async def test_free_form_outside_the_window_fails_131047_and_is_a_violation(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    status, sent = await stack.send(text_message(to=OTHER))
    await stack.settle()

    assert status == 200
    (failed,) = stack.receiver.statuses()
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
    (violation,) = await violations_of(stack)
    assert (violation["code"], violation["wamid"]) == (131047, sent["messages"][0]["id"])
    status, alias = await stack.call("GET", "/sandbox/violations")
    assert alias["count"] == 1
    assert await violations_of(stack, "?code=130429") == []


async def test_a_reaction_gets_only_sent_and_a_reaction_does_not_open_the_window(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    inbound = await customer_writes(
        stack, type="reaction", reaction={"message_id": "wamid.X", "emoji": "x"}
    )
    await stack.send(text_message())
    await customer_writes(stack)
    reaction = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "reaction"}
    _, sent = await stack.send(
        {**reaction, "reaction": {"message_id": inbound, "emoji": "\U0001f44d"}}
    )
    await stack.settle()
    read = {"wamid": sent["messages"][0]["id"]}
    assert (await stack.call("POST", "/_sandbox/customer-reads", read))[0] == 404

    assert [s["status"] for s in stack.receiver.statuses()] == ["failed", "sent"]


async def test_throughput_over_the_configured_rate_gets_130429(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await customer_writes(stack)
    await customer_writes(stack, **{"from": OTHER})
    status, _ = await stack.call(
        "POST", "/_sandbox/throughput", {"phone_number_id": PNID, "mps": 2}
    )
    assert status == 200

    codes = []
    for to in (CUSTOMER, OTHER, CUSTOMER):
        status, body = await stack.send(text_message(to=to))
        codes.append(status if status == 200 else body["error"]["code"])

    assert codes == [200, 200, 130429]
    assert [v["code"] for v in await violations_of(stack)] == [130429]


async def test_the_same_customer_faster_than_the_pair_rate_gets_131056(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(pair_burst=2)
    await customer_writes(stack)
    await customer_writes(stack, **{"from": OTHER})

    results = [(await stack.send(text_message()))[0] for _ in range(3)]
    _, body = await stack.send(text_message())
    other, _ = await stack.send(text_message(to=OTHER))

    assert results == [200, 200, 400]
    assert body["error"]["code"] == 131056
    assert other == 200
    assert [v["code"] for v in await violations_of(stack)] == [131056, 131056]


async def test_read_receipts_after_the_configured_delay_or_on_demand(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(read_after_s=0.01)
    await customer_writes(stack)
    await stack.send(text_message())
    await stack.settle()
    assert [s["status"] for s in stack.receiver.statuses()] == ["sent", "delivered", "read"]
    assert "pricing" not in stack.receiver.statuses()[-1]

    quiet = await make_stack()
    await customer_writes(quiet)
    _, sent = await quiet.send(text_message())
    status, _ = await quiet.call(
        "POST", "/_sandbox/customer-reads", {"wamid": sent["messages"][0]["id"]}
    )
    assert status == 200
    await quiet.settle()
    assert "read" in [s["status"] for s in quiet.receiver.statuses()]
    status, _ = await quiet.call("POST", "/_sandbox/customer-reads", {"wamid": "wamid.nope"})
    assert status == 404


async def test_v23_reports_conversation_and_v24_does_not(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await customer_writes(stack)
    await stack.send(text_message(), version="v23.0")
    await stack.settle()

    sent, delivered = stack.receiver.statuses()
    assert sent["conversation"]["origin"] == {"type": "service"}
    assert "conversation" in delivered


async def test_a_reply_to_a_click_to_whatsapp_ad_is_free_entry_point(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    referral = {
        "source_url": "https://fb.me/ad",
        "source_id": "120",
        "headline": "Sale",
        "ctwa_clid": "c1",
    }
    await customer_writes(stack, referral=referral)
    await stack.send(text_message())
    await stack.settle()

    inbound = stack.receiver.payloads()[0]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert inbound["referral"] == {"source_type": "ad", **referral}
    await stack.send(text_message(body="And another thing."))
    await stack.settle()
    sent, delivered, later, _ = stack.receiver.statuses()
    assert later["conversation"]["id"] == sent["conversation"]["id"]
    assert sent["pricing"]["type"] == "free_entry_point"
    assert sent["pricing"]["category"] == "referral_conversion"
    assert sent["conversation"]["origin"] == {"type": "referral_conversion"}
    assert "expiration_timestamp" in sent["conversation"]
    assert "expiration_timestamp" not in delivered["conversation"]


async def test_mark_as_read_of_a_received_message(make_stack: StackFactory) -> None:
    stack = await make_stack()
    inbound = await customer_writes(stack)
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": inbound}
    assert await stack.send(read) == (200, {"success": True})
    status, body = await stack.send({**read, "message_id": "wamid.unknown"})
    assert (status, body["error"]["code"]) == (400, 131009)
    typing = {**read, "typing_indicator": {"type": "text"}}
    assert await stack.send(typing) == (200, {"success": True})
    _, traffic = await stack.call("GET", "/_sandbox/messages")
    assert [(r["wamid"], r["typing_indicator"]) for r in traffic["read_receipts"]] == [
        (inbound, False),
        (inbound, True),
    ]


async def test_mark_as_read_after_the_window_closed_is_refused(make_stack: StackFactory) -> None:
    stack = await make_stack()
    inbound = await customer_writes(stack)
    world = stack.sandbox.world
    for pair in list(world.last_customer_message):
        world.last_customer_message[pair] -= timedelta(hours=25)
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": inbound}
    status, body = await stack.send({**read, "typing_indicator": {"type": "text"}})
    assert (status, body["error"]["code"]) == (400, 131047)
    assert [v.code for v in world.violations] == [131047]
    assert world.receipts == []


async def test_a_customer_not_on_whatsapp_fails_131026_without_a_violation(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await customer_writes(stack)
    body = {"wa_id": "+1 650-555-1234", "reachable": False}
    assert await stack.call("POST", "/_sandbox/reachability", body) == (
        200,
        {"wa_id": CUSTOMER, "reachable": False},
    )
    await stack.send(text_message())
    await stack.call("POST", "/_sandbox/reachability", {**body, "reachable": True})
    await stack.send(text_message())
    await stack.settle()

    statuses = stack.receiver.statuses()
    assert [s["status"] for s in statuses] == ["failed", "sent", "delivered"]
    assert statuses[0]["errors"][0]["code"] == 131026
    assert await violations_of(stack) == []
    status, _ = await stack.call("POST", "/_sandbox/reachability", {"wa_id": CUSTOMER})
    assert status == 400


async def test_a_paced_template_holds_messages_then_releases_or_drops_them(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(held_s=0.05)
    template_id = await approved_template(
        stack, "flash", "New arrivals in store this week.", "MARKETING"
    )
    control = f"/_sandbox/templates/{template_id}"
    status, paced = await stack.call("POST", f"{control}/pacing", {"paced": True})
    assert (status, paced["paced"]) == (200, True)

    _, released = await stack.send(template_send("flash", to="447700900123"))
    await stack.settle()
    _, dropped = await stack.send(template_send("flash", to="447700900123"))
    await stack.call("POST", f"{control}/pause", {})
    await stack.settle()
    await stack.call("POST", f"{control}/unpause", {})
    await stack.call("POST", f"{control}/pacing", {"paced": False})
    _, normal = await stack.send(template_send("flash", to="447700900123"))

    held = "held_for_quality_assessment"
    assert released["messages"][0]["message_status"] == held
    assert dropped["messages"][0]["message_status"] == held
    assert normal["messages"][0]["message_status"] == "accepted"
    statuses = [(s["id"], s["status"]) for s in stack.receiver.statuses()]
    first, second = released["messages"][0]["id"], dropped["messages"][0]["id"]
    assert statuses == [(first, "sent"), (first, "delivered"), (second, "failed")]
    assert stack.receiver.statuses()[-1]["errors"][0]["code"] == 132015
    _, traffic = await stack.call("GET", "/_sandbox/messages")
    assert [m["error"] for m in traffic["sent"]] == [None, 132015, None]
    assert await violations_of(stack) == []


async def test_the_reengage_fault_fails_free_form_later_with_131047_without_a_violation(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await customer_writes(stack)  # the window is open: Meta's clock says otherwise
    assert (await stack.call("PUT", "/_sandbox/faults", {"reengage_rate": 1}))[0] == 200
    status, body = await stack.send(text_message())
    assert status == 200 and body["messages"][0]["id"]
    await stack.settle()
    statuses = stack.receiver.statuses()
    assert [s["status"] for s in statuses] == ["failed"]
    assert statuses[0]["errors"][0]["code"] == 131047
    assert await violations_of(stack) == []
    _, traffic = await stack.call("GET", "/_sandbox/messages")
    [sent] = traffic["sent"]
    assert sent["error"] == 131047 and sent["message"] == text_message()["text"]


async def test_the_reengage_fault_leaves_templates_alone_and_the_message_is_recorded(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await approved_template(stack, "order_update", "Your order has shipped.")
    assert (await stack.call("PUT", "/_sandbox/faults", {"reengage_rate": 1}))[0] == 200
    send = template_send("order_update")
    status, _ = await stack.send(send)
    assert status == 200
    await stack.settle()
    assert [s["status"] for s in stack.receiver.statuses()] == ["sent", "delivered"]
    _, traffic = await stack.call("GET", "/_sandbox/messages")
    [sent] = traffic["sent"]
    assert sent["error"] is None and sent["message"] == send["template"]


async def test_the_marketing_endpoint_delivers_marketing_templates_as_marketing_lite(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await approved_template(stack, "flash", "New arrivals in store this week.", "MARKETING")
    await approved_template(stack, "receipt", "Your receipt is ready.")
    path = f"/v24.0/{PNID}/marketing_messages"
    body = {**template_send("flash", to=CANADA), "product_policy": "STRICT"}
    status, answer = await stack.call("POST", path, body)
    assert status == 200 and answer["messages"][0]["message_status"] == "accepted"
    refused = await stack.call("POST", path, template_send("receipt"))
    assert (refused[0], refused[1]["error"]["code"]) == (400, 131055)
    text = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "x"}}
    assert (await stack.call("POST", path, text))[1]["error"]["code"] == 100
    await stack.settle()
    sent = stack.sandbox.world.sent[answer["messages"][0]["id"]]
    assert sent.endpoint == "marketing_messages"
    assert [s["pricing"]["category"] for s in stack.receiver.statuses()] == ["marketing_lite"] * 2


async def test_a_portfolio_not_onboarded_falls_back_or_is_refused(make_stack: StackFactory) -> None:
    stack = await make_stack(marketing_messages_onboarded=False)
    await approved_template(stack, "flash", "New arrivals in store this week.", "MARKETING")
    path = f"/v24.0/{PNID}/marketing_messages"
    strict = await stack.call(
        "POST", path, {**template_send("flash", to=CANADA), "product_policy": "STRICT"}
    )
    assert (strict[0], strict[1]["error"]["code"]) == (400, 100)
    status, _ = await stack.call("POST", path, template_send("flash", to=CANADA))
    assert status == 200
    await stack.settle()
    assert [s["pricing"]["category"] for s in stack.receiver.statuses()] == ["marketing"] * 2


async def test_service_charged_prices_an_in_window_reply_as_charged(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(service_charged=True)
    await customer_writes(stack)
    status, _ = await stack.send(text_message())
    assert status == 200
    await stack.settle()
    charged = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "service"}
    assert [s["pricing"] for s in stack.receiver.statuses()] == [charged, charged]
