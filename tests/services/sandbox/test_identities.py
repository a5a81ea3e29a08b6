"""Customers as Meta knows them in 2026 (§9.1), over the sandbox's HTTP API: BSUIDs in every
messages webhook, username adopters whose phone is withheld, sends by `recipient`, one window
per customer whichever identifier is used, BSUIDs scoped to a portfolio, parent BSUIDs, number
changes, preferences and reachability by BSUID, and hostile identifiers refused; and, called
directly with a clock, the 30 days a withheld phone is shared after the business messaged it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.ingest.normalize import normalize
from services.sandbox.rules.template_model import Template
from tests.services.sandbox.conftest import (
    CUSTOMER,
    OTHER,
    PNID,
    Stack,
    StackFactory,
    approved_template,
    customer_writes,
    template_send,
    text_message,
    violations_of,
)
from tests.services.sandbox.rig import T0, Rig

HOME = "200000000000001"  # SandboxSettings.portfolio_id
SECOND, SECOND_PNID = "300000000000001", "206540352242922"
PARENT = "US.ENT.11815799212886844830"
NEW_PHONE = "12195555358"


async def add_customer(stack: Stack, **fields: Any) -> dict[str, Any]:
    status, body = await stack.call("POST", "/_sandbox/customers", fields)
    assert status == 200, body
    return dict(body)


async def shown(stack: Stack, identifier: str) -> dict[str, Any]:
    status, body = await stack.call("GET", f"/_sandbox/customers/{identifier}")
    assert status == 200, body
    return dict(body)


def by_bsuid(user_id: str, **fields: Any) -> dict[str, Any]:
    """A text to a BSUID: `recipient`, no `to`."""
    body = {**text_message(), **fields, "recipient": user_id}
    return {k: v for k, v in body.items() if k != "to"}


def inbound(stack: Stack) -> list[dict[str, Any]]:
    return [v for v in stack.receiver.changes("messages") if "messages" in v]


def status_values(stack: Stack) -> list[dict[str, Any]]:
    return [v for v in stack.receiver.changes("messages") if "statuses" in v]


async def second_portfolio(stack: Stack, linked: bool = False) -> None:
    body = {"portfolio_id": SECOND, "phone_number_ids": [SECOND_PNID], "linked": linked}
    status, answer = await stack.call("POST", "/_sandbox/portfolios", body)
    assert (status, answer) == (200, body)


async def test_a_phone_customer_has_a_bsuid_in_every_messages_webhook(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    again = await make_stack()
    elsewhere = await make_stack(portfolio_id="900000000000009")
    for each in (stack, again, elsewhere):
        await customer_writes(each, name="Sheena")
    bsuid = (await shown(stack, CUSTOMER))["user_ids"][HOME]
    assert bsuid.startswith("US.")
    assert (await shown(again, CUSTOMER))["user_ids"] == {HOME: bsuid}
    assert bsuid not in (await shown(elsewhere, CUSTOMER))["user_ids"].values()

    status, sent = await stack.send(text_message())
    assert (status, sent["contacts"]) == (200, [{"input": CUSTOMER, "wa_id": CUSTOMER}])
    await stack.settle()

    (message,) = inbound(stack)
    assert message["contacts"] == [
        {"profile": {"name": "Sheena"}, "wa_id": CUSTOMER, "user_id": bsuid}
    ]
    assert (message["messages"][0]["from"], message["messages"][0]["from_user_id"]) == (
        CUSTOMER,
        bsuid,
    )
    for value in status_values(stack):
        (item,) = value["statuses"]
        assert (item["recipient_id"], item["recipient_user_id"]) == (CUSTOMER, bsuid)
        assert value["contacts"] == [
            {"profile": {"name": "Sheena"}, "wa_id": CUSTOMER, "user_id": bsuid}
        ]
    for payload in stack.receiver.payloads():
        assert normalize(payload, "c").unparsed == []


async def test_a_withheld_phone_shows_only_once_the_business_messaged_it(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    added = await add_customer(
        stack, phone=CUSTOMER, username="@ana.r", phone_withheld=True, name="Ana"
    )
    assert (added["username"], added["phone_withheld"], added["phone"]) == ("ana.r", True, CUSTOMER)
    bsuid = added["user_ids"][HOME]
    await customer_writes(stack, text="Oi")
    await approved_template(stack, "notice", "Your appointment is confirmed.")

    status, reply = await stack.send(by_bsuid(bsuid))
    assert (status, reply["contacts"]) == (200, [{"input": bsuid, "user_id": bsuid}])
    await stack.settle()
    (first,) = inbound(stack)
    assert first["contacts"] == [
        {"profile": {"name": "Ana", "username": "ana.r"}, "user_id": bsuid}
    ]
    assert "from" not in first["messages"][0]
    assert first["messages"][0]["from_user_id"] == bsuid
    sent, delivered = status_values(stack)
    for value in (sent, delivered):
        assert "recipient_id" not in value["statuses"][0]
        assert value["statuses"][0]["recipient_user_id"] == bsuid
    assert sent["contacts"] == [{"profile": {"name": "Ana"}, "user_id": bsuid}]
    assert delivered["contacts"][0]["profile"] == {"name": "Ana", "username": "ana.r"}

    assert (await stack.send(template_send("notice")))[0] == 200
    await customer_writes(stack, text="Obrigada")
    await stack.settle()
    later = inbound(stack)[-1]
    assert later["messages"][0]["from"] == CUSTOMER
    assert later["contacts"][0]["wa_id"] == CUSTOMER


async def test_to_wins_over_recipient(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await customer_writes(stack)
    bsuid = (await shown(stack, CUSTOMER))["user_ids"][HOME]

    status, both = await stack.send({**text_message(to=CUSTOMER), "recipient": bsuid})
    assert (status, both["contacts"]) == (
        200,
        [{"input": CUSTOMER, "wa_id": CUSTOMER, "user_id": bsuid}],
    )
    status, other = await stack.send({**text_message(to=OTHER), "recipient": bsuid})
    assert status == 200 and other["contacts"][0]["wa_id"] == OTHER
    await stack.settle()

    by_wamid = {s["id"]: s for s in stack.receiver.statuses()}
    assert by_wamid[other["messages"][0]["id"]]["status"] == "failed"  # OTHER has no window
    assert by_wamid[other["messages"][0]["id"]]["recipient_id"] == OTHER
    assert [v["code"] for v in await violations_of(stack)] == [131047]


async def test_a_send_with_neither_to_nor_recipient_is_malformed(make_stack: StackFactory) -> None:
    stack = await make_stack()
    request = {k: v for k, v in text_message().items() if k != "to"}

    status, body = await stack.send(request)
    assert (status, body["error"]["code"]) == (400, 100)
    assert "'recipient'" in body["error"]["error_data"]["details"]
    status, body = await stack.send(by_bsuid("us.1349\r\n"))
    assert (status, body["error"]["code"]) == (400, 100)
    assert await violations_of(stack) == []
    assert stack.sandbox.world.sent == {}


async def test_one_window_and_one_pair_rate_per_customer_whichever_identifier(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(pair_burst=2, pair_interval_s=60)
    added = await add_customer(stack, phone=CUSTOMER, username="ana.r")
    bsuid = added["user_ids"][HOME]
    await customer_writes(stack, **{"from": "", "from_user_id": bsuid})

    assert (await stack.send(by_bsuid(bsuid)))[0] == 200
    assert (await stack.send(text_message()))[0] == 200
    status, refused = await stack.send(by_bsuid(bsuid))
    assert (status, refused["error"]["code"]) == (400, 131056)
    await stack.settle()

    assert [s["status"] for s in stack.receiver.statuses()] == ["sent", "delivered"] * 2
    (violation,) = await violations_of(stack)
    assert (violation["code"], violation["recipient"]) == (131056, bsuid)
    assert inbound(stack)[0]["messages"][0]["from"] == CUSTOMER  # not withheld: phone shown


def _authentication(stack: Stack) -> None:
    stack.sandbox.world.templates["77"] = Template(
        id="77",
        name="login_code",
        language="en_US",
        category="AUTHENTICATION",
        components=(
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "ZERO_TAP"}]},
        ),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        status="APPROVED",
    )


async def test_an_authentication_template_to_a_bsuid_is_refused_131062(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    _authentication(stack)
    bsuid = (await add_customer(stack, phone=CUSTOMER))["user_ids"][HOME]
    code = [
        {"type": "body", "parameters": [{"type": "text", "text": "123456"}]},
        {
            "type": "button",
            "sub_type": "url",
            "index": 0,
            "parameters": [{"type": "text", "text": "123456"}],
        },
    ]
    template = template_send("login_code", *code)

    status, body = await stack.send(by_bsuid(bsuid, type="template", template=template["template"]))
    assert (status, body["error"]["code"]) == (400, 131062)
    assert body["error"]["message"] == (
        "(#131062) Business-scoped User ID (BSUID) recipients are not supported for this message."
    )
    assert (await stack.send(template))[0] == 200
    assert (await stack.send({**template, "recipient": bsuid}))[0] == 200

    (violation,) = await violations_of(stack)
    assert (violation["code"], violation["recipient"]) == (131062, bsuid)


async def test_a_bsuid_is_valid_only_from_its_own_portfolios_numbers(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await second_portfolio(stack)
    await customer_writes(stack)
    await customer_writes(stack, phone_number_id=SECOND_PNID)
    await stack.settle()
    here, there = (v["messages"][0]["from_user_id"] for v in inbound(stack))
    assert here != there
    assert (await shown(stack, CUSTOMER))["user_ids"] == {HOME: here, SECOND: there}

    refused = [
        await stack.send(by_bsuid(there)),
        await stack.call("POST", f"/v24.0/{SECOND_PNID}/messages", by_bsuid(here)),
    ]
    for status, body in refused:
        assert (status, body["error"]["code"]) == (400, 100)
        assert "another business portfolio" in body["error"]["error_data"]["details"]
    status, body = await stack.call("POST", f"/v24.0/{SECOND_PNID}/messages", by_bsuid(there))
    assert (status, body["contacts"]) == (200, [{"input": there, "user_id": there}])
    assert [v["code"] for v in await violations_of(stack)] == [100, 100]


async def test_a_parent_bsuid_reaches_the_customer_from_linked_portfolios_only(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await add_customer(stack, phone=CUSTOMER, parent_user_id=PARENT)
    await second_portfolio(stack, linked=False)
    await customer_writes(stack)
    await customer_writes(stack, phone_number_id=SECOND_PNID)
    await stack.settle()
    home, second = inbound(stack)
    assert home["messages"][0]["from_parent_user_id"] == PARENT
    assert home["contacts"][0]["parent_user_id"] == PARENT
    assert "from_parent_user_id" not in second["messages"][0]
    assert "parent_user_id" not in second["contacts"][0]

    second_send = f"/v24.0/{SECOND_PNID}/messages"
    status, body = await stack.call("POST", second_send, by_bsuid(PARENT))
    assert (status, body["error"]["code"]) == (400, 100)
    assert "parent BSUID" in body["error"]["error_data"]["details"]
    await second_portfolio(stack, linked=True)
    status, body = await stack.call("POST", second_send, by_bsuid(PARENT))
    assert status == 200
    there = second["messages"][0]["from_user_id"]
    assert body["contacts"] == [{"input": PARENT, "user_id": there}]
    await stack.settle()
    (delivered,) = [s for s in stack.receiver.statuses() if s["status"] == "delivered"]
    assert delivered["recipient_user_id"] == there
    assert delivered["parent_recipient_user_id"] == PARENT


async def test_a_number_change_regenerates_the_bsuid_and_keeps_the_window(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await customer_writes(stack, name="Sheena Nelson")
    old = (await shown(stack, CUSTOMER))["user_ids"][HOME]

    change = {"from": CUSTOMER, "to": f"+{NEW_PHONE}"}
    status, changed = await stack.call("POST", "/_sandbox/number-changes", change)
    assert status == 200, changed
    new = changed["customer"]["user_ids"][HOME]
    assert new != old and changed["customer"]["phone"] == NEW_PHONE
    (notice,) = changed["notified"]
    assert (notice["phone_number_id"], notice["type"]) == (PNID, "user_changed_number")
    await stack.settle()
    value = inbound(stack)[-1]
    assert "contacts" not in value
    (system,) = value["messages"]
    assert (system["id"], system["from"], system["from_user_id"]) == (notice["id"], CUSTOMER, old)
    assert system["system"] == {
        "body": f"User Sheena Nelson changed from {CUSTOMER} to {NEW_PHONE}",
        "wa_id": NEW_PHONE,
        "type": "user_changed_number",
        "user_id": new,
        "previous_user_id": old,
    }

    status, body = await stack.send(by_bsuid(old))
    assert (status, body["error"]["code"]) == (400, 100)
    assert "changed phone number" in body["error"]["error_data"]["details"]
    assert (await stack.send(by_bsuid(new)))[0] == 200
    assert (await stack.send(text_message(to=NEW_PHONE)))[0] == 200
    await stack.settle()
    assert [s["status"] for s in stack.receiver.statuses()] == ["sent", "delivered"] * 2
    assert (await stack.call("GET", f"/_sandbox/customers/{CUSTOMER}"))[0] == 404
    for payload in stack.receiver.payloads():
        assert normalize(payload, "c").unparsed == []


async def test_a_withheld_phone_changing_number_is_a_user_id_change(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    old = (await add_customer(stack, phone=CUSTOMER, username="ana.r", phone_withheld=True))[
        "user_ids"
    ][HOME]
    await customer_writes(stack, **{"from": "", "from_user_id": old})

    change = {"from_user_id": old, "to": NEW_PHONE, "phone_number_ids": [PNID]}
    status, changed = await stack.call("POST", "/_sandbox/number-changes", change)
    assert status == 200, changed
    new = changed["customer"]["user_ids"][HOME]
    assert changed["notified"][0]["type"] == "user_changed_user_id"
    await stack.settle()
    (system,) = inbound(stack)[-1]["messages"]
    assert "from" not in system and system["from_user_id"] == old
    assert system["system"] == {
        "body": f"User Sandbox Customer changed from {old} to {new}",
        "type": "user_changed_user_id",
        "user_id": new,
        "previous_user_id": old,
    }


async def test_preferences_and_reachability_by_bsuid_hold_for_the_phone_too(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    bsuid = (await add_customer(stack, phone=CUSTOMER, username="ana.r", phone_withheld=True))[
        "user_ids"
    ][HOME]
    await approved_template(stack, "weekly_sale", "Big sale this week on everything.", "MARKETING")
    preference = {"phone_number_id": PNID, "user_id": bsuid, "value": "stop"}
    status, answer = await stack.call("POST", "/_sandbox/user-preferences", preference)
    assert (status, answer) == (200, {"user_id": bsuid, "value": "stop"})
    assert (await stack.send(template_send("weekly_sale")))[0] == 200

    reach = {"user_id": bsuid, "reachable": False}
    assert await stack.call("POST", "/_sandbox/reachability", reach) == (
        200,
        {"user_id": bsuid, "reachable": False},
    )
    await customer_writes(stack)
    assert (await stack.send(text_message()))[0] == 200
    await stack.settle()

    (stop,) = stack.receiver.changes("user_preferences")
    assert stop["contacts"] == [{"user_id": bsuid}]
    assert stop["user_preferences"][0]["user_id"] == bsuid
    assert "wa_id" not in stop["user_preferences"][0]
    assert [s["errors"][0]["code"] for s in stack.receiver.statuses()] == [131050, 131026]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        pytest.param({"user_id": "US.1349120865\r\n5302741918"}, "control character", id="crlf"),
        pytest.param({"user_id": "US.13491208\n"}, "control character", id="lf"),
        pytest.param({"user_id": "US." + "1" * 131}, "longer than 131", id="over-130"),
        pytest.param({"user_id": "us.13491208655302741918"}, "capitals", id="lowercase"),
        pytest.param({"user_id": "US13491208655302741918"}, "dot", id="no-dot"),
        pytest.param({"user_id": 13491208655302741918}, "non-empty string", id="a-number"),
        pytest.param({"parent_user_id": "US.ENT.1\r\n"}, "parent_user_id", id="parent-crlf"),
        pytest.param({"phone": "1" * 16}, "more than 15", id="phone-too-long"),
        pytest.param({"phone": "+", "user_id": "US.1"}, "digits", id="phone-no-digits"),
        pytest.param({"phone": CUSTOMER, "username": "ana-r"}, "username", id="bad-username"),
        pytest.param({"phone": CUSTOMER, "phone_withheld": True}, "username", id="withheld-alone"),
        pytest.param({"user_id": "US.1"}, "username", id="no-phone-no-username"),
        pytest.param({"phone": CUSTOMER, "phone_withheld": "yes"}, "true or false", id="flag"),
        pytest.param({"phone": CUSTOMER, "country": "us"}, "country", id="country"),
    ],
)
async def test_hostile_or_impossible_customers_are_refused_400(
    make_stack: StackFactory, fields: dict[str, Any], error: str
) -> None:
    stack = await make_stack()
    status, body = await stack.call("POST", "/_sandbox/customers", fields)
    assert status == 400 and error in body["error"]
    assert (await stack.call("GET", "/_sandbox/customers"))[1] == {"customers": [], "count": 0}


async def test_identifiers_stay_one_customers(make_stack: StackFactory) -> None:
    stack = await make_stack()
    first = await add_customer(stack, phone=CUSTOMER, username="ana.r")
    bsuid = first["user_ids"][HOME]
    conflicts = [
        {"phone": OTHER, "user_id": bsuid},
        {"phone": OTHER, "username": "ANA.R"},
        {"phone": CUSTOMER, "user_id": "US.99"},
        {"phone": OTHER, "parent_user_id": bsuid},
    ]
    for fields in conflicts:
        status, body = await stack.call("POST", "/_sandbox/customers", fields)
        assert status == 409, (fields, body)
    renamed = await add_customer(stack, user_id=bsuid, username="ana.rocha", name="Ana")
    assert renamed["user_ids"] == {HOME: bsuid}  # a username change never changes the BSUID
    assert (await add_customer(stack, phone=OTHER, username="ana.r"))["username"] == "ana.r"
    phoneless = await add_customer(stack, username="bia", country="BR")
    assert phoneless["phone"] is None and phoneless["user_ids"][HOME].startswith("BR.")
    given = await add_customer(stack, user_id="CO.Zx81", username="caro")
    assert (given["user_ids"], given["country"]) == ({HOME: "CO.Zx81"}, "CO")
    assert (await stack.call("GET", "/_sandbox/customers"))[1]["count"] == 4

    unknown = {"phone_number_id": PNID, "from_user_id": "US.404", "text": "Hi"}
    status, body = await stack.call("POST", "/_sandbox/customer-messages", unknown)
    assert status == 404 and "add it first" in body["error"]
    hostile = {**unknown, "from_user_id": "US.4\r\n04"}
    assert (await stack.call("POST", "/_sandbox/customer-messages", hostile))[0] == 400
    change = {"from_user_id": "US.404", "to": NEW_PHONE}
    assert (await stack.call("POST", "/_sandbox/number-changes", change))[0] == 404
    change = {"from": CUSTOMER}
    assert (await stack.call("POST", "/_sandbox/number-changes", change))[0] == 400
    change = {"from": CUSTOMER, "to": OTHER}
    assert (await stack.call("POST", "/_sandbox/number-changes", change))[0] == 409


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig()
    yield rig
    await rig.sandbox.close()


def _approved(rig: Rig, name: str = "notice") -> None:
    rig.world.templates[name] = Template(
        id=name,
        name=name,
        language="en_US",
        category="UTILITY",
        components=({"type": "BODY", "text": "Your appointment is confirmed."},),
        created_at=T0,
        status="APPROVED",
    )


@pytest.mark.parametrize(
    ("written_after", "phone_shown"),
    [
        pytest.param(timedelta(days=29), True, id="29-days-later"),
        pytest.param(timedelta(days=30), True, id="30-days-later"),
        pytest.param(timedelta(days=30, seconds=1), False, id="30-days-and-1s-later"),
    ],
)
async def test_a_withheld_phone_is_shared_for_30_days_after_a_delivered_send(
    rig: Rig, written_after: timedelta, phone_shown: bool
) -> None:
    _approved(rig)
    customers = rig.sandbox.customers
    customers.add({"phone": CUSTOMER, "username": "ana.r", "phone_withheld": True})
    assert rig.sandbox.send(PNID, template_send("notice")).status == 200
    rig.clock.now = T0 + written_after
    customers.sends({"phone_number_id": PNID, "from": CUSTOMER, "text": "Hi"})
    await rig.webhooks(3)  # the message, then the template's sent and delivered

    (message,) = [v for v in rig.changes("messages") if "messages" in v]
    assert ("from" in message["messages"][0]) is phone_shown
    assert ("wa_id" in message["contacts"][0]) is phone_shown


async def test_a_failed_send_to_the_phone_does_not_share_it(rig: Rig) -> None:
    rig.sandbox.customers.add({"phone": CUSTOMER, "username": "ana.r", "phone_withheld": True})
    assert rig.sandbox.send(PNID, text_message()).status == 200  # no window: fails 131047
    rig.sandbox.customer_message(PNID, CUSTOMER, "Hi")
    await rig.webhooks(2)

    message, failed = rig.changes("messages")
    assert failed["statuses"][0]["recipient_id"] == CUSTOMER  # the business addressed it
    assert "from" not in message["messages"][0]
