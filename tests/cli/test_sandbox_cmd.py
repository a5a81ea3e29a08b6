"""`wagate sandbox ...` drives a running sandbox through its control API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from click.testing import CliRunner

from cli.sandbox_cmd import sandbox
from tests.services.sandbox.conftest import PNID, WABA, Stack, StackFactory

CUSTOMER = "16505551234"


async def _wagate(stack: Stack, *args: str) -> Any:
    """Run the command in a thread (it runs its own event loop) and parse its JSON output."""
    url = str(stack.client.make_url("")).rstrip("/")
    result = await asyncio.to_thread(
        CliRunner().invoke, sandbox, ["--url", url, *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def test_customer_messages_of_any_type_in_the_past(make_stack: StackFactory) -> None:
    stack = await make_stack()
    first = await _wagate(
        stack, "customer-message", "--to", PNID, "--from", CUSTOMER, "--text", "Hi", "--ago", "3600"
    )
    await _wagate(
        stack,
        "customer-message",
        "--to",
        PNID,
        "--from",
        CUSTOMER,
        "--type",
        "button",
        "--content",
        '{"payload": "STOP", "text": "Stop promotions"}',
        "--context",
        "wamid.OUT",
        "--referral",
        '{"source_id": "120"}',
    )
    await stack.settle()

    messages = [c["messages"][0] for c in stack.receiver.changes("messages")]
    assert messages[0]["id"] == first["id"]
    assert messages[0]["text"] == {"body": "Hi"}
    assert messages[1]["button"] == {"payload": "STOP", "text": "Stop promotions"}
    assert messages[1]["context"]["id"] == "wamid.OUT"
    assert messages[1]["referral"] == {"source_type": "ad", "source_id": "120"}
    url = str(stack.client.make_url("")).rstrip("/")
    result = await asyncio.to_thread(
        CliRunner().invoke, sandbox, ["--url", url, "webhooks", "--last", "1"]
    )
    (line,) = result.output.splitlines()
    assert json.loads(line)["entry"][0]["changes"][0]["value"]["messages"][0]["type"] == "button"
    traffic = await _wagate(stack, "messages", "--number", PNID)
    assert [m["kind"] for m in traffic["received"]] == ["text", "button"]


async def test_templates_marketing_throughput_faults_violations_reset(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    body = {"type": "BODY", "text": "Your appointment is confirmed."}
    request = {"name": "notice", "language": "en_US", "category": "UTILITY", "components": [body]}
    _, created = await stack.call("POST", f"/v24.0/{WABA}/message_templates", request)
    await stack.settle()
    template_id = created["id"]

    assert (await _wagate(stack, "template", "pacing", template_id))["paced"] is True
    assert "paced" not in await _wagate(stack, "template", "pacing", template_id, "--off")
    assert (await _wagate(stack, "template", "pause", template_id))["status"] == "PAUSED"
    assert (await _wagate(stack, "template", "unpause", template_id))["status"] == "APPROVED"
    changed = await _wagate(stack, "template", "category", template_id, "MARKETING")
    assert changed["category"] == "MARKETING"
    rated = await _wagate(stack, "template", "quality", template_id, "RED")
    assert rated["quality_score"] == {"score": "RED"}
    assert (await _wagate(stack, "template", "disable", template_id))["status"] == "DISABLED"
    listed = await _wagate(stack, "template", "list")
    assert [t["id"] for t in listed["data"]] == [template_id]

    stopped = await _wagate(stack, "marketing", "stop", "--to", PNID, "--from", CUSTOMER)
    assert stopped == {"wa_id": CUSTOMER, "value": "stop"}
    assert await _wagate(stack, "reachable", CUSTOMER, "--no") == {
        "wa_id": CUSTOMER,
        "reachable": False,
    }
    assert await _wagate(stack, "throughput", "--number", PNID, "--mps", "5") == {
        "phone_number_id": PNID,
        "mps": 5.0,
    }
    faults = await _wagate(stack, "faults", "--set", "drop_rate=0.5", "--set", "throttle_burst=2")
    assert (faults["drop_rate"], faults["throttle_burst"]) == (0.5, 2)
    assert (await _wagate(stack, "faults", "--clear"))["drop_rate"] == 0

    text = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "x"}}
    await stack.send(text)
    violations = await _wagate(stack, "violations", "--code", "131047")
    assert violations["count"] == 1
    assert (await _wagate(stack, "reset", "--seed", "4")) == {"reset": True, "seed": 4}
    assert (await _wagate(stack, "violations"))["count"] == 0


async def test_an_unreachable_sandbox_exits_unavailable() -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke, sandbox, ["--url", "http://127.0.0.1:9", "violations"]
    )
    assert result.exit_code != 0
    assert "unreachable" in result.output


async def test_the_customer_reads_a_message(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await stack.call(
        "POST",
        "/_sandbox/customer-messages",
        {"phone_number_id": PNID, "from": CUSTOMER, "text": "Hi"},
    )
    text = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "x"}}
    _, sent = await stack.send(text)
    wamid = sent["messages"][0]["id"]

    assert await _wagate(stack, "read", wamid) == {"read": wamid}
    await stack.settle()
    assert "read" in [s["status"] for s in stack.receiver.statuses()]


async def test_a_username_customer_is_added_writes_stops_marketing_and_changes_number(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    added = await _wagate(
        stack, "customer", "add", "--phone", CUSTOMER, "--username", "ana.r", "--no-phone"
    )
    assert (added["phone_withheld"], added["username"]) == (True, "ana.r")
    (bsuid,) = added["user_ids"].values()
    named = await _wagate(stack, "customer", "add", "--bsuid", bsuid, "--name", "Ana")
    assert (named["name"], named["user_ids"]) == ("Ana", added["user_ids"])

    await _wagate(stack, "customer-message", "--to", PNID, "--from-user-id", bsuid, "--text", "Oi")
    assert (await _wagate(stack, "customer", "show", bsuid))["phone"] == CUSTOMER
    stopped = await _wagate(stack, "marketing", "stop", "--to", PNID, "--from-user-id", bsuid)
    assert stopped == {"user_id": bsuid, "value": "stop"}
    assert await _wagate(stack, "reachable", bsuid, "--no") == {
        "user_id": bsuid,
        "reachable": False,
    }
    changed = await _wagate(
        stack, "customer", "change-number", "--from-user-id", bsuid, "--to", "12195555358"
    )
    assert [n["type"] for n in changed["notified"]] == ["user_changed_user_id"]
    assert bsuid not in changed["customer"]["user_ids"].values()
    assert (await _wagate(stack, "customer", "list"))["count"] == 1
    await stack.settle()

    message, preference, system = (
        c
        for p in stack.receiver.payloads()
        for e in p["entry"]
        for c in (ch["value"] for ch in e["changes"])
    )
    assert "from" not in message["messages"][0]
    assert message["contacts"][0]["profile"] == {"name": "Ana", "username": "ana.r"}
    assert preference["user_preferences"][0]["user_id"] == bsuid
    assert system["messages"][0]["system"]["previous_user_id"] == bsuid


async def test_numbers_of_a_linked_portfolio_see_the_parent_bsuid(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    other_number = "206540352242922"
    parent = "US.ENT.11815799212886844830"
    linked = await _wagate(
        stack, "portfolio", "300000000000001", "--number", other_number, "--linked"
    )
    assert linked == {
        "portfolio_id": "300000000000001",
        "phone_number_ids": [other_number],
        "linked": True,
    }
    await _wagate(stack, "customer", "add", "--phone", CUSTOMER, "--parent-bsuid", parent)
    await _wagate(
        stack, "customer-message", "--to", other_number, "--from", CUSTOMER, "--text", "Hi"
    )
    before = await _wagate(stack, "customer", "show", CUSTOMER)
    changed = await _wagate(
        stack, "customer", "change-number", "--from", CUSTOMER, "--to", "12195555358"
    )
    await stack.settle()

    message, system = (c["messages"][0] for c in stack.receiver.changes("messages"))
    assert message["from_parent_user_id"] == parent
    assert message["from_user_id"] == before["user_ids"]["300000000000001"]
    assert changed["notified"] == [
        {"phone_number_id": other_number, "id": system["id"], "type": "user_changed_number"}
    ]
    assert system["system"]["previous_parent_user_id"] == parent
    assert system["system"]["wa_id"] == "12195555358"


async def test_bad_identifiers_are_refused(make_stack: StackFactory) -> None:
    stack = await make_stack()
    url = str(stack.client.make_url("")).rstrip("/")
    runs = [
        ["customer", "add", "--bsuid", "US.1\r\n2"],
        ["customer", "add", "--bsuid", "us.12"],
        ["customer-message", "--to", PNID, "--from-user-id", "US.404", "--text", "Hi"],
        [
            "customer-message",
            "--to",
            PNID,
            "--from",
            CUSTOMER,
            "--from-user-id",
            "US.1",
            "--text",
            "x",
        ],
        ["customer-message", "--to", PNID, "--text", "Nobody"],
    ]
    outcomes = [
        await asyncio.to_thread(CliRunner().invoke, sandbox, ["--url", url, *args]) for args in runs
    ]
    assert [r.exit_code for r in outcomes] == [1, 1, 1, 2, 2]
    assert "400" in outcomes[0].output and "control character" in outcomes[0].output
    assert "404" in outcomes[2].output
    assert "--from-user-id" in outcomes[3].output


async def test_a_customer_known_only_by_bsuid(make_stack: StackFactory) -> None:
    stack = await make_stack()
    bsuid = "US.13491208655302741918"
    added = await _wagate(
        stack, "customer", "add", "--bsuid", bsuid, "--username", "bia", "--no-phone"
    )
    assert (added["phone"], added["user_ids"], added["username"]) == (
        None,
        {"200000000000001": bsuid},
        "bia",
    )
    await _wagate(stack, "customer-message", "--to", PNID, "--from-user-id", bsuid, "--text", "Hi")
    await stack.settle()

    (value,) = stack.receiver.changes("messages")
    assert value["messages"][0]["from_user_id"] == bsuid and "from" not in value["messages"][0]
    assert value["contacts"] == [
        {"profile": {"name": "Sandbox Customer", "username": "bia"}, "user_id": bsuid}
    ]
