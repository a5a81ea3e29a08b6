"""The customers the sandbox plays, over the control API: a message in the past opens the window
from its timestamp, every type is posted as Meta would, and a customer who stops marketing gets
no more marketing templates."""

from __future__ import annotations

import time

import pytest

from tests.services.sandbox.conftest import (
    CUSTOMER,
    PNID,
    StackFactory,
    approved_template,
    customer_writes,
    template_send,
    text_message,
    violations_of,
)


@pytest.mark.parametrize(
    ("ago_s", "outcome"),
    [(24 * 3600 - 30, "delivered"), (24 * 3600 + 1, "failed")],
    ids=["23h59m30s-ago", "24h-and-1s-ago"],
)
async def test_a_past_customer_message_opens_the_window_from_its_timestamp(
    make_stack: StackFactory, ago_s: int, outcome: str
) -> None:
    stack = await make_stack()
    await customer_writes(stack, timestamp=int(time.time()) - ago_s)
    await stack.send(text_message())
    await stack.settle()

    inbound = stack.receiver.payloads()[0]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert int(inbound["timestamp"]) == pytest.approx(time.time() - ago_s, abs=2)
    assert stack.receiver.statuses()[-1]["status"] == outcome


async def test_marketing_to_a_customer_who_stopped_fails_131050(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await approved_template(stack, "weekly_sale", "Big sale this week on everything.", "MARKETING")
    abroad = "447700900123"  # no marketing reaches a US number at all (131049)
    preference = {"phone_number_id": PNID, "wa_id": abroad, "value": "stop"}
    assert (await stack.call("POST", "/_sandbox/user-preferences", preference))[0] == 200

    status, _ = await stack.send(template_send("weekly_sale", to=abroad))
    assert status == 200
    await stack.call("POST", "/_sandbox/user-preferences", {**preference, "value": "resume"})
    await stack.send(template_send("weekly_sale", to=abroad))
    await stack.settle()

    stop, resume = stack.receiver.changes("user_preferences")
    assert stop["user_preferences"][0]["value"] == "stop"
    assert resume["user_preferences"][0]["value"] == "resume"
    statuses = stack.receiver.statuses()
    assert [s["status"] for s in statuses] == ["failed", "sent", "delivered"]
    assert statuses[0]["errors"][0]["code"] == 131050
    assert [v["code"] for v in await violations_of(stack)] == [131050]


async def test_customers_send_every_type_and_traffic_is_listed(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await customer_writes(stack)
    _, sent = await stack.send(text_message())
    wamid = sent["messages"][0]["id"]
    await customer_writes(stack, type="button", button={"text": "Stop"}, context={"id": wamid})
    await customer_writes(stack, type="image", image={"caption": "this one"})
    await customer_writes(stack, type="location", location={"latitude": 1, "longitude": 2})
    status, refused = await stack.call(
        "POST",
        "/_sandbox/customer-messages",
        {"phone_number_id": PNID, "from": CUSTOMER, "type": "button"},
    )
    assert status == 400 and "context" in refused["error"]
    await stack.settle()

    kinds = [
        c["messages"][0]["type"] for c in stack.receiver.changes("messages") if "messages" in c
    ]
    assert kinds == ["text", "button", "image", "location"]
    status, traffic = await stack.call("GET", f"/_sandbox/messages?phone_number_id={PNID}")
    assert [m["kind"] for m in traffic["received"]] == kinds
    assert [m["wamid"] for m in traffic["sent"]] == [wamid]
    status, none = await stack.call("GET", "/_sandbox/messages?phone_number_id=42")
    assert none == {"sent": [], "received": [], "read_receipts": []}
