"""A customer's page over a real read model: every identifier Meta gave (phone, BSUID,
parent BSUID, a changed number) finds the one customer, and the page shows all of them,
with the intents, consent and marketing cap usage of each."""

from __future__ import annotations

import re

import pytest

from tests.services.console import facts
from tests.services.console.conftest import VIEWER, Console

pytestmark = pytest.mark.postgres


def _linked_message() -> object:
    """The customer writes again, now with their BSUID and parent BSUID beside the phone."""
    first = facts.story()[0]
    return first.model_copy(
        update={"user_id": facts.BSUID, "parent_user_id": facts.PARENT,
                "message_id": "wamid.IN2", "event_id": "in-2"}
    )  # fmt: skip


def _customers(text: str) -> list[str]:
    return re.findall(r'<li><a href="/customers/(\d+)">', text)


def _intents(text: str) -> set[str]:
    return set(re.findall(r'<a href="/intents/([^"]+)">', text))


async def test_a_bsuid_intent_is_found_by_the_phone_and_the_phone_by_the_bsuid(
    console: Console,
) -> None:
    intent = facts.by_bsuid()
    await console.store.write(facts.batch_of([intent, _linked_message()]))
    customer_id = await console.queries.customer_id(facts.CUSTOMER)
    for query in (facts.CUSTOMER, facts.BSUID, facts.PARENT, "+1 650 555 1234"):
        status, text = await console.get(f"/search?q={query}")
        assert status == 200, query
        assert _customers(text) == [str(customer_id)], query  # one customer, the phone's
        assert _intents(text) == {"reply-1", "otp-1", "bsuid-1"}, query
    status, page = await console.get(f"/customers/{customer_id}")
    assert status == 200
    rows = re.findall(r'class="identity identity-(\w+)"><td>[^<]*</td><td class="identifier">'
                      r"([^<]+)</td><td class=\"muted\">([^<]*)</td>", page)  # fmt: skip
    assert {(kind, identifier) for kind, identifier, _ in rows} >= {
        ("phone", facts.CUSTOMER), ("bsuid", facts.BSUID), ("parent_bsuid", facts.PARENT),
        ("name", "Maria"),
    }  # fmt: skip
    assert ("bsuid", facts.BSUID, "inbound message") in rows
    assert "/intents/bsuid-1" in page


async def test_a_changed_number_is_the_same_customer_under_both(console: Console) -> None:
    await console.store.write(facts.batch_of([_linked_message(), facts.number_changed()]))
    later = facts.reply("after-move").model_copy(update={"to": facts.NEW_PHONE})
    await console.store.write(facts.batch_of([later]))
    old_id = await console.queries.customer_id(facts.CUSTOMER)
    for query in (facts.NEW_PHONE, facts.NEW_BSUID):
        _, text = await console.get(f"/search?q={query}")
        assert {"after-move", "reply-1", "otp-1"} <= _intents(text), query
        assert len(_customers(text)) == 1, query
    _, page = await console.get(f"/customers/{old_id}")
    assert facts.NEW_PHONE in page and facts.NEW_BSUID in page
    assert "user changed number" in page and "/intents/after-move" in page


async def test_a_stranger_is_not_linked_to_anyone(console: Console) -> None:
    await console.store.write(facts.batch_of([_linked_message()]))
    _, text = await console.get(f"/search?q={facts.STRANGER}")
    assert _intents(text) == {"late-1"}
    _, text = await console.get("/search?q=US.00000000000000000001")
    assert _customers(text) == [] and _intents(text) == set()


async def test_a_viewer_sees_the_bsuid_but_no_phone_in_clear(console: Console) -> None:
    await console.store.write(facts.batch_of([_linked_message(), facts.number_changed()]))
    customer_id = await console.queries.customer_id(facts.BSUID)
    status, page = await console.get(f"/customers/{customer_id}", token=VIEWER)
    assert status == 200
    assert facts.BSUID in page
    assert facts.CUSTOMER not in page and facts.NEW_PHONE not in page


async def test_marketing_cap_usage_counts_every_identifier_of_the_customer(
    console: Console,
) -> None:
    """Approved marketing in the last day and week, whether the intent named the phone or
    the BSUID; other categories, rejections and older sends do not count."""
    by_phone = facts.reply("mkt-phone")
    by_bsuid = facts.by_bsuid("mkt-bsuid")
    old = facts.reply("mkt-old")
    events = [
        _linked_message(),
        facts.decided(by_phone, "approved", [], 3000, pricing="marketing"),
        facts.decided(by_bsuid, "approved", [], 3100, pricing="marketing"),
        facts.decided(old, "approved", [], 3600 - 3 * 86400, pricing="marketing"),
        facts.decided(facts.reply("mkt-util"), "approved", [], 3200, pricing="utility"),
        facts.decided(facts.reply("mkt-no"), "rejected", ["MARKETING_CAP"], 3300),
    ]
    await console.store.write(facts.batch_of(events))
    customer_id = await console.queries.customer_id(facts.CUSTOMER)
    _, page = await console.get(f"/customers/{customer_id}")
    assert "Marketing approved: 2 in the last day, 3 in the last 7 days." in page
