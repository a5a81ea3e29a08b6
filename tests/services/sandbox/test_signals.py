"""The sandbox plays calls, Business app echoes and Meta's agent (rules §9.6): each control
request posts Meta's webhook, signed, in a shape ingest types without leaving anything
unparsed, and changes the world as Meta's would (a call opens the window, an echo uses the
pair rate, the agent's hold sends the customer's messages on `standby` until a service
message of the app takes the thread back)."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingest.normalize import normalize
from shared.events.signals import CallReported, OutboundActivityObserved, ThreadControlChanged
from shared.events.webhooks import InboundMessageReceived
from tests.services.sandbox.conftest import (
    CUSTOMER,
    PNID,
    Stack,
    StackFactory,
    customer_writes,
    text_message,
    violations_of,
)


async def _events(stack: Stack) -> list[Any]:
    """What ingest makes of every webhook the sandbox signed and posted so far."""
    await stack.settle()
    assert all(stack.receiver.signed)
    events = []
    for payload in stack.receiver.payloads():
        out = normalize(payload, "corr")
        assert out.unparsed == [], out.unparsed
        events += [event for _, event, _ in out.events]
    return events


@pytest.mark.parametrize(
    ("request_", "events", "opens"),
    [
        ({}, ["connect", "terminate"], True),
        ({"answered": False}, ["connect", "terminate"], True),
        ({"direction": "BUSINESS_INITIATED"}, ["ringing", "accepted", "connect", "terminate"],
         True),
        ({"direction": "BUSINESS_INITIATED", "accepted": False}, ["ringing", "rejected"], False),
    ],
)  # fmt: skip
async def test_a_call_posts_metas_calls_webhooks_and_may_open_the_window(
    make_stack: StackFactory, request_: dict[str, Any], events: list[str], opens: bool
) -> None:
    stack = await make_stack()
    body = {"phone_number_id": PNID, "from": CUSTOMER, **request_}
    status, answer = await stack.call("POST", "/_sandbox/calls", body)
    assert status == 200 and answer["opens_window"] is opens
    calls = [e for e in await _events(stack) if isinstance(e, CallReported)]
    assert [c.event for c in calls] == events
    assert any(c.opens_window for c in calls) is opens
    status, _ = await stack.send(text_message())  # a free-form reply: inside the window or not
    await stack.settle()
    refused = [v["code"] for v in await violations_of(stack)]
    assert refused == ([] if opens else [131047])


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"from": CUSTOMER, "direction": "SIDEWAYS"}, 400),
        ({"from": CUSTOMER, "answered": "yes"}, 400),
        ({}, 400),
        ({"from_user_id": "US.999"}, 404),
    ],
)
async def test_a_bad_call_request_changes_nothing(
    make_stack: StackFactory, body: dict[str, Any], status: int
) -> None:
    stack = await make_stack()
    got, answer = await stack.call("POST", "/_sandbox/calls", {"phone_number_id": PNID, **body})
    assert got == status and "error" in answer
    assert await _events(stack) == []


async def test_an_echo_is_outbound_activity_and_uses_the_pair_rate(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(pair_burst=1)
    await customer_writes(stack)
    body = {"phone_number_id": PNID, "to": CUSTOMER, "text": "typed in the app"}
    status, _ = await stack.call("POST", "/_sandbox/echoes", body)
    assert status == 200
    echoes = [e for e in await _events(stack) if isinstance(e, OutboundActivityObserved)]
    assert [(e.source, e.to) for e in echoes] == [("business_app", CUSTOMER)]
    status, answer = await stack.send(text_message())  # right after the echo: too soon
    assert status == 400 and answer["error"]["code"] == 131056
    status, _ = await stack.call("POST", "/_sandbox/echoes", {**body, "by": "agent"})
    agent = [e for e in await _events(stack) if isinstance(e, OutboundActivityObserved)]
    assert agent[-1].source == "agent"


async def test_the_agent_holds_the_thread_until_a_service_message_takes_it(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await customer_writes(stack)
    thread = {"phone_number_id": PNID, "wa_id": CUSTOMER}
    status, answer = await stack.call(
        "POST", "/_sandbox/threads", {**thread, "action": "take", "metadata": "faq"}
    )
    assert (status, answer) == (200, {"held_by": "agent", "notified": "control_taken"})
    await customer_writes(stack, text="are you a bot?")
    assert (await stack.send(text_message()))[0] == 200  # the app takes the thread back
    await customer_writes(stack, text="thanks")
    await stack.call("POST", "/_sandbox/threads", {**thread, "action": "take"})
    await stack.call("POST", "/_sandbox/threads", {**thread, "action": "pass"})
    status, answer = await stack.call("POST", "/_sandbox/threads", {**thread, "action": "release"})
    assert answer == {"held_by": "business", "notified": None}
    events = await _events(stack)
    handovers = [(e.change, e.held_by) for e in events if isinstance(e, ThreadControlChanged)]
    assert handovers == [
        ("control_taken", "agent"), ("control_taken", "agent"), ("control_passed", "business")
    ]  # fmt: skip
    assert next(e for e in events if isinstance(e, ThreadControlChanged)).metadata == "faq"
    inbound = [(e.text, e.standby) for e in events if isinstance(e, InboundMessageReceived)]
    assert inbound == [("Hi", False), ("are you a bot?", True), ("thanks", False)]


@pytest.mark.parametrize(
    "body",
    [{"action": "steal"}, {"action": "take", "metadata": 5}, {"action": "take", "wa_id": None}],
)
async def test_a_bad_thread_request_is_refused(
    make_stack: StackFactory, body: dict[str, Any]
) -> None:
    stack = await make_stack()
    request = {"phone_number_id": PNID, "wa_id": CUSTOMER, **body}
    status, answer = await stack.call("POST", "/_sandbox/threads", request)
    assert status == 400 and "error" in answer
    assert stack.sandbox.world.agent_threads == set()
