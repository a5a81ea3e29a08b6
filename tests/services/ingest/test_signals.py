"""Calls, echoes, standby and handovers (rules §9.6) become typed events; a hostile or partial
item of them is kept whole on the unparsed topic with a reason, and never hides its
neighbours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.normalize import Normalized, normalize
from shared.events.signals import CallReported, OutboundActivityObserved, ThreadControlChanged
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.topics import CALLS, INBOUND_MESSAGES, OUTBOUND_ACTIVITY, STATUSES, THREAD_CONTROL
from tests.services.ingest.meta_payloads import CUSTOMER, METADATA, PNID, TIME, webhook

pytestmark = pytest.mark.unit
BSUID = "US.13491208655302741918"
AT = "1749416383"


def value(**parts: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "metadata": METADATA, **parts}


def run(field: str, value_: dict[str, Any]) -> Normalized:
    return normalize(webhook(field, value_), "corr")


def user_call(**fields: Any) -> dict[str, Any]:
    item = {"id": "wacid.ABGG1", "from": CUSTOMER, "to": "15550783881", "event": "connect",
            "timestamp": AT, "direction": "USER_INITIATED",
            "session": {"sdp_type": "offer", "sdp": "v=0..."}}  # fmt: skip
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


@pytest.mark.parametrize(
    ("item", "event", "direction", "opens"),
    [
        (user_call(), "connect", "USER_INITIATED", True),
        (user_call(event="terminate", status="Completed", duration=42), "terminate",
         "USER_INITIATED", False),
        (user_call(**{"from": "15550783881", "to": CUSTOMER, "direction": "BUSINESS_INITIATED"}),
         "connect", "BUSINESS_INITIATED", False),
        (user_call(**{"from": None, "from_user_id": BSUID}), "connect", "USER_INITIATED", True),
    ],
)  # fmt: skip
def test_calls_items_become_call_events(
    item: dict[str, Any], event: str, direction: str, opens: bool
) -> None:
    out = run("calls", value(calls=[item]))
    assert out.unparsed == []
    [(spec, call, key)] = out.events
    assert spec is CALLS and isinstance(call, CallReported)
    assert (call.event, call.direction, call.opens_window) == (event, direction, opens)
    assert call.timestamp == datetime.fromtimestamp(int(AT), UTC)
    assert key == f"{PNID}:{call.customer}"
    assert call.customer in (CUSTOMER, BSUID)


@pytest.mark.parametrize(
    ("status", "event", "opens"),
    [("RINGING", "ringing", False), ("ACCEPTED", "accepted", True),
     ("REJECTED", "rejected", False)],
)  # fmt: skip
def test_a_business_calls_statuses_are_its_progress(status: str, event: str, opens: bool) -> None:
    item = {"id": "wacid.B1", "type": "call", "status": status, "timestamp": AT,
            "recipient_id": CUSTOMER}  # fmt: skip
    [(spec, call, _)] = run("calls", value(statuses=[item])).events
    assert spec is CALLS and isinstance(call, CallReported)
    assert (call.direction, call.event, call.opens_window) == ("BUSINESS_INITIATED", event, opens)


@pytest.mark.parametrize(
    ("item", "why"),
    [
        (user_call(direction="SIDEWAYS"), "direction"),
        (user_call(event="ring"), "event"),
        (user_call(timestamp="soon"), "timestamp"),
        (user_call(**{"from": "+1 650"}), "from"),
        (user_call(**{"from": None}), "missing"),
        (user_call(id=None), "id"),
        (user_call(duration="long", event="terminate"), "duration"),
        ("not an object", "not an object"),
    ],
)
def test_a_hostile_call_is_unparsed_and_its_neighbour_published(item: object, why: str) -> None:
    out = run("calls", value(calls=[item, user_call(id="wacid.good")]))
    assert [e.call_id for _, e, _ in out.events] == ["wacid.good"]  # type: ignore[attr-defined]
    [kept] = out.unparsed
    assert kept.field == "calls" and kept.fragment == item and why in kept.reason


def test_a_message_status_in_a_calls_change_is_unparsed() -> None:
    item = {"id": "wamid.x", "status": "delivered", "timestamp": AT, "recipient_id": CUSTOMER}
    out = run("calls", value(statuses=[item]))
    assert out.events == [] and "type" in out.unparsed[0].reason


def echo_item(**fields: Any) -> dict[str, Any]:
    item = {"from": "15550783881", "to": CUSTOMER, "id": "wamid.ECHO1", "timestamp": AT,
            "type": "text", "text": {"body": "typed in the app"}}  # fmt: skip
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


@pytest.mark.parametrize(
    ("field", "source"), [("smb_message_echoes", "business_app"), ("standby", "agent")]
)
def test_echoes_are_outbound_activity(field: str, source: str) -> None:
    out = run(field, value(message_echoes=[echo_item(), echo_item(id="wamid.E2", to=None,
                                                                to_user_id=BSUID)]))  # fmt: skip
    assert out.unparsed == []
    assert [spec for spec, _, _ in out.events] == [OUTBOUND_ACTIVITY, OUTBOUND_ACTIVITY]
    first, second = (e for _, e, _ in out.events)
    assert isinstance(first, OutboundActivityObserved) and first.source == source
    assert (first.to, first.message_type, first.customer) == (CUSTOMER, "text", CUSTOMER)
    assert isinstance(second, OutboundActivityObserved) and second.customer == BSUID


@pytest.mark.parametrize(
    "item",
    [echo_item(to=None), echo_item(to="+1 (650)"), echo_item(id=None), echo_item(type=None),
     echo_item(timestamp="x"), echo_item(to="DE.\nx")],
)  # fmt: skip
def test_a_hostile_echo_is_unparsed(item: dict[str, Any]) -> None:
    out = run("smb_message_echoes", value(message_echoes=[item, echo_item(id="wamid.ok")]))
    assert [e.message_id for _, e, _ in out.events] == ["wamid.ok"]  # type: ignore[attr-defined]
    assert out.unparsed[0].fragment == item


def test_standby_messages_are_inbound_marked_standby_and_their_statuses_statuses() -> None:
    msg = {"from": CUSTOMER, "id": "wamid.IN", "timestamp": AT, "type": "text",
           "text": {"body": "hello agent"}}  # fmt: skip
    status = {"id": "wamid.AG", "status": "delivered", "timestamp": AT, "recipient_id": CUSTOMER}
    contacts = [{"profile": {"name": "Sheena"}, "wa_id": CUSTOMER}]
    out = run("standby", value(contacts=contacts, messages=[msg], statuses=[status]))
    assert out.unparsed == []
    (s1, inbound, _), (s2, st, _) = out.events
    assert s1 is INBOUND_MESSAGES and isinstance(inbound, InboundMessageReceived)
    assert inbound.standby and inbound.contact_name == "Sheena"
    assert s2 is STATUSES and isinstance(st, MessageStatusReported)
    messages = run("messages", value(messages=[msg])).events[0][1]
    assert isinstance(messages, InboundMessageReceived) and not messages.standby


def test_a_user_preference_on_standby_is_not_a_part_of_it() -> None:
    pref = {"wa_id": CUSTOMER, "category": "marketing_messages", "value": "stop",
            "timestamp": 1731705721}  # fmt: skip
    out = run("standby", value(user_preferences=[pref]))
    assert out.events == [] and "not a part" in out.unparsed[0].reason


def handover_value(kind: str = "control_passed", **fields: Any) -> dict[str, Any]:
    notice = {"metadata": "escalated", "previous_owner": {"role": "ai_agent"}}
    base = value(type=kind, wa_id=CUSTOMER, timestamp=AT, **{kind: notice})
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("kind", "held_by"), [("control_passed", "business"), ("control_taken", "agent")]
)
def test_handovers_say_who_holds_the_thread(kind: str, held_by: str) -> None:
    out = run("messaging_handovers", handover_value(kind))
    assert out.unparsed == []
    [(spec, event, key)] = out.events
    assert spec is THREAD_CONTROL and isinstance(event, ThreadControlChanged)
    assert (event.change, event.held_by, event.metadata) == (kind, held_by, "escalated")
    assert key == f"{PNID}:{CUSTOMER}"


def test_a_handover_names_its_customer_in_the_notification_or_by_bsuid() -> None:
    inside = handover_value(wa_id=None, control_passed={"user_id": BSUID}, timestamp=None)
    [(_, event, _)] = run("messaging_handovers", inside).events
    assert isinstance(event, ThreadControlChanged) and event.customer == BSUID
    assert event.timestamp == datetime.fromtimestamp(TIME, UTC)  # entry.time when none given


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"type": "control_released"}, "type"),
        ({"type": None}, "type"),
        ({"wa_id": None}, "missing"),
        ({"wa_id": "not-a-phone"}, "wa_id"),
        ({"metadata": None}, "metadata"),
        ({"control_passed": "text"}, "control_passed"),
        ({"timestamp": "yesterday"}, "timestamp"),
    ],
)
def test_a_hostile_handover_is_unparsed(changes: dict[str, Any], why: str) -> None:
    out = run("messaging_handovers", handover_value(**changes))
    assert out.events == []
    [kept] = out.unparsed
    assert kept.field == "messaging_handovers" and why in kept.reason
