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
