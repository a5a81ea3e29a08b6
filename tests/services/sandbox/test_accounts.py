"""The sandbox as Meta on the business's account: limit, throughput and restriction webhooks
on demand, Meta's stops of a sender and its per-customer answers when asked, and no marketing
template delivered to a US customer."""

from __future__ import annotations

from typing import Any

import pytest

from services.sandbox.rules.marketing_limits import us_customer
from tests.services.sandbox.conftest import (
    PNID,
    WABA,
    Stack,
    StackFactory,
    approved_template,
    template_send,
    text_message,
    violations_of,
)

CANADA = "16045551234"


async def _change(stack: Stack, field: str) -> dict[str, Any]:
    await stack.settle()
    [change] = stack.receiver.changes(field)
    return {"value": change}


async def test_a_limit_change_is_a_capability_update(make_stack: StackFactory) -> None:
    stack = await make_stack()
    status, _ = await stack.call("POST", "/_sandbox/accounts/limit", {"tier": "TIER_10K"})
    assert status == 200
    change = await _change(stack, "business_capability_update")
    assert change["value"] == {
        "max_daily_conversations_per_business": "TIER_10K",
        "max_phone_numbers_per_business": 2,
    }  # the fields announced for removal in Feb 2026 are never sent
    bad = await stack.call("POST", "/_sandbox/accounts/limit", {"tier": "TIER_3"})
    assert bad[0] == 400 and "tier must be one of" in bad[1]["error"]


async def test_a_throughput_upgrade_raises_the_numbers_rate_and_says_so(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(throughput_mps=2)
    sent = [(await stack.send(text_message()))[0] for _ in range(3)]
    assert sent.count(400) >= 1  # 130429 beyond 2 a second
    await stack.call("POST", "/_sandbox/reset", {})
    await stack.call("POST", "/_sandbox/accounts/throughput-upgrade", {"phone_number_id": PNID})
    change = await _change(stack, "phone_number_quality_update")
    assert change["value"] == {
        "display_phone_number": stack.sandbox.settings.display_phone_number,
        "event": "THROUGHPUT_UPGRADE",
        "max_daily_conversations_per_business": "TIER_UNLIMITED",
    }
    assert stack.sandbox.world.throughput[PNID] == 1000.0
    status, body = await stack.call("POST", "/_sandbox/accounts/throughput-upgrade", {})
    assert status == 400 and "phone_number_id" in body["error"]


async def test_restrictions_and_their_lifting_are_account_updates(make_stack: StackFactory) -> None:
    stack = await make_stack()
    kinds = ["RESTRICTED_BIZ_INITIATED_MESSAGING"]
    await stack.call("POST", "/_sandbox/accounts/restrictions", {"restrictions": kinds})
    await stack.call("POST", "/_sandbox/accounts/restrictions", {"restrictions": []})
    await stack.settle()
    restricted, lifted = stack.receiver.changes("account_update")
    assert restricted["event"] == "ACCOUNT_RESTRICTION"
    assert [r["restriction_type"] for r in restricted["restriction_info"]] == kinds
    assert lifted["restriction_info"] == []
    assert stack.receiver.payloads()[0]["entry"][0]["id"] == WABA
    bad = await stack.call("POST", "/_sandbox/accounts/restrictions", {"restrictions": [3]})
    assert bad[0] == 400


@pytest.mark.parametrize(("code", "http"), [(131048, 400), (131064, 400), (368, 403)])
async def test_metas_stop_of_a_sender_refuses_the_next_send_when_asked(
    make_stack: StackFactory, code: int, http: int
) -> None:
    stack = await make_stack()
    assert (await stack.call("POST", "/_sandbox/sender-codes", {"codes": [code]}))[0] == 200
    status, body = await stack.send(text_message(to=CANADA))
    assert (status, body["error"]["code"]) == (http, code)
    assert (await stack.send(text_message(to=CANADA)))[0] == 200  # only the next one
    assert await violations_of(stack, f"?code={code}") == []  # Meta's state, not a violation


@pytest.mark.parametrize("code", [131049, 130472])
async def test_per_customer_answers_come_as_a_failed_status_when_asked(
    make_stack: StackFactory, code: int
) -> None:
    stack = await make_stack()
    await approved_template(stack, "spring_sale", "Spring offers are here", "MARKETING")
    await stack.call("POST", "/_sandbox/sender-codes", {"codes": [code]})
    status, _ = await stack.send(template_send("spring_sale", to=CANADA))
    assert status == 200
    await stack.settle()
    [failed] = [s for s in stack.receiver.statuses() if s["status"] == "failed"]
    assert failed["errors"][0]["code"] == code
    assert await violations_of(stack) == []
    second, _ = await stack.send(template_send("spring_sale", to=CANADA))
    await stack.settle()
    assert second == 200 and [s["status"] for s in stack.receiver.statuses()][-1] == "delivered"


async def test_an_unknown_code_cannot_be_asked_for(make_stack: StackFactory) -> None:
    stack = await make_stack()
    for body in ({"codes": [131026]}, {"codes": []}, {"codes": "131048"}, {}):
        status, answer = await stack.call("POST", "/_sandbox/sender-codes", body)
        assert status == 400 and "codes must be a list" in answer["error"]


async def test_no_marketing_template_reaches_a_us_customer(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await approved_template(stack, "spring_sale", "Spring offers are here", "MARKETING")
    status, _ = await stack.send(template_send("spring_sale", to="16505551234"))
    assert status == 200  # accepted, as Meta does, then failed
    await stack.settle()
    [failed] = [s for s in stack.receiver.statuses() if s["status"] == "failed"]
    assert failed["errors"][0]["code"] == 131049
    assert [v["code"] for v in await violations_of(stack)] == [131049]


@pytest.mark.parametrize(
    ("phone", "country", "us"),
    [
        ("16505551234", None, True),
        ("16045551234", None, False),
        ("18765550100", None, False),
        ("5511988887777", None, False),
        (None, "US", True),
        (None, "BR", False),
        ("x", None, False),
    ],
)
def test_who_the_us_pause_covers(phone: str | None, country: str | None, us: bool) -> None:
    assert us_customer(phone, country) is us
