"""The identity table's pure rules: identifiers Meta reports together lead to one canonical key
per portfolio, a customer found under two keys is absorbed into one, a number or BSUID change
retires the old identifiers and moves the key when it was one of them; the intent's address
and an impossible `to`."""

from __future__ import annotations

from typing import Any

import pytest

from services.policy import identity
from shared.events.decisions import Address
from shared.events.intents import OutboundIntentSubmitted, TextContent

P, Q = "portfolio-1", "portfolio-2"
PHONE, OTHER_PHONE = "5511987654321", "5511912345678"
BSUID, NEW_BSUID = "BR.8841203376615520", "BR.5500112233445566"
PARENT = "BR.ENT.99887766"


def learned(table: dict[str, Any], portfolio: str, *ids: str | None) -> identity.Learned:
    out = identity.learn(table, portfolio, list(ids))
    identity.apply(table, out.writes)
    return out


def test_a_new_customer_is_known_by_the_first_identifier_and_each_leads_there() -> None:
    table: dict[str, Any] = {}
    out = learned(table, P, PHONE, BSUID, PARENT)
    assert out.canonical == PHONE and out.absorbed == ()
    for i in (PHONE, BSUID, PARENT):
        assert identity.resolve(table, P, i) == PHONE
    assert identity.members(table, P, PHONE) == [PHONE, BSUID, PARENT]
    assert identity.phone_of(table, P, PHONE) == PHONE


def test_a_customer_known_only_by_bsuid_keeps_it_and_has_no_phone() -> None:
    table: dict[str, Any] = {}
    assert learned(table, P, None, BSUID).canonical == BSUID
    assert identity.phone_of(table, P, BSUID) is None
    assert identity.resolve(table, P, "US.1349") == "US.1349"  # never seen: itself


def test_a_bsuid_seen_later_beside_the_phone_joins_the_phone_customer() -> None:
    table: dict[str, Any] = {}
    learned(table, P, PHONE)
    out = learned(table, P, PHONE, BSUID)
    assert (out.canonical, out.absorbed) == (PHONE, ())
    assert identity.resolve(table, P, BSUID) == PHONE


def test_two_keys_found_to_be_one_customer_are_absorbed_into_the_first() -> None:
    table: dict[str, Any] = {}
    learned(table, P, PHONE)
    learned(table, P, None, BSUID)  # the same person, written from a username first
    out = learned(table, P, PHONE, BSUID)
    assert (out.canonical, out.absorbed) == (PHONE, (BSUID,))
    assert identity.resolve(table, P, BSUID) == PHONE
    assert identity.members_key(P, BSUID) not in table


def test_learning_what_is_known_writes_nothing() -> None:
    table: dict[str, Any] = {}
    learned(table, P, PHONE, BSUID)
    assert identity.learn(table, P, [PHONE, BSUID]).writes == {}
    assert identity.learn(table, P, [BSUID]).writes == {}


def test_nothing_is_linked_across_portfolios() -> None:
    table: dict[str, Any] = {}
    learned(table, P, PHONE, BSUID)
    learned(table, Q, OTHER_PHONE, BSUID)  # the same spelling in another portfolio
    assert identity.resolve(table, P, BSUID) == PHONE
    assert identity.resolve(table, Q, BSUID) == OTHER_PHONE
    assert identity.resolve(table, Q, PHONE) == PHONE  # unknown there


def test_phones_are_one_spelling_and_bsuids_are_never_digits() -> None:
    table: dict[str, Any] = {}
    learned(table, P, "+55 11 98765-4321", BSUID)
    assert identity.resolve(table, P, PHONE) == PHONE
    assert identity.resolve(table, P, "8841203376615520") == "8841203376615520"


def test_a_number_change_moves_a_phone_keyed_customer_and_frees_the_old_number() -> None:
    table: dict[str, Any] = {}
    learned(table, P, PHONE, BSUID)
    out = identity.change(table, P, [PHONE, BSUID], [OTHER_PHONE, NEW_BSUID])
    identity.apply(table, out.writes)
    assert (out.canonical, out.absorbed) == (OTHER_PHONE, (PHONE,))
    assert identity.resolve(table, P, NEW_BSUID) == OTHER_PHONE
    assert identity.canonical_of(table, P, PHONE) is None  # the old number names no one
    assert identity.canonical_of(table, P, BSUID) is None  # the old BSUID was regenerated


def test_a_bsuid_change_of_a_phone_keyed_customer_keeps_the_key() -> None:
    table: dict[str, Any] = {}
    learned(table, P, PHONE, BSUID)
    out = identity.change(table, P, [BSUID], [NEW_BSUID])
    identity.apply(table, out.writes)
    assert (out.canonical, out.absorbed) == (PHONE, ())
    assert identity.resolve(table, P, NEW_BSUID) == PHONE
    assert identity.canonical_of(table, P, BSUID) is None


def test_a_bsuid_change_of_a_bsuid_keyed_customer_moves_them() -> None:
    table: dict[str, Any] = {}
    learned(table, P, None, BSUID)
    out = identity.change(table, P, [BSUID], [NEW_BSUID])
    identity.apply(table, out.writes)
    assert (out.canonical, out.absorbed) == (NEW_BSUID, (BSUID,))


def test_a_change_of_a_customer_never_seen_just_learns_the_new_identifiers() -> None:
    table: dict[str, Any] = {}
    out = identity.change(table, P, [PHONE], [OTHER_PHONE])
    identity.apply(table, out.writes)
    assert out.canonical == OTHER_PHONE
    assert identity.canonical_of(table, P, PHONE) is None


def test_a_change_to_identifiers_of_another_key_absorbs_it() -> None:
    table: dict[str, Any] = {}
    learned(table, P, PHONE)
    learned(table, P, OTHER_PHONE)  # the new number wrote before the notice came
    out = identity.change(table, P, [PHONE], [OTHER_PHONE])
    identity.apply(table, out.writes)
    assert out.canonical == OTHER_PHONE and PHONE in out.absorbed


def _intent(**address: str) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id="i", phone_number_id="1", content=TextContent(body="hi"), **address
    )


@pytest.mark.parametrize(
    ("to", "why"),
    [
        ("+1 650-555-1234", None),
        ("16505551234", None),
        ("5511987654321", None),  # Brazil, ninth digit
        ("521 55 1234 5678", None),  # Mexico, as WhatsApp spells its mobiles
        ("52 55 1234 5678", None),  # Mexico, as its plan does
        ("+44 7700 900123", None),
        ("123", "is no possible number"),
        ("999999999999999", "no phone number"),  # no country has code 999
        ("52155", "no possible number"),  # too few digits for Mexico
        ("+1 650", "is no possible number"),
        ("0044 7700 900123", "no phone number"),  # a trunk prefix is no country code
        ("US.13491208655302741918", "holds a BSUID"),
        ("16505551234\r\nX: y", "not spelled as a phone number"),
        ("hello", "not spelled as a phone number"),
        ("+", "not spelled as a phone number"),
    ],
)
def test_an_impossible_to_is_named(to: str, why: str | None) -> None:
    found = identity.impossible_recipient(_intent(to=to))
    if why is None:
        assert found is None
    else:
        assert found is not None and why in found


def test_a_recipient_is_never_judged_as_a_phone() -> None:
    assert identity.impossible_recipient(_intent(recipient=BSUID)) is None


@pytest.mark.parametrize(
    ("address", "phone", "category", "expected"),
    [
        ({"to": "+1 650-555-1234"}, None, None, Address(field="to", value="+1 650-555-1234")),
        ({"to": PHONE}, None, "AUTHENTICATION", Address(field="to", value=PHONE)),
        ({"recipient": BSUID}, PHONE, None, Address(field="recipient", value=BSUID)),
        ({"recipient": BSUID}, PHONE, "MARKETING", Address(field="recipient", value=BSUID)),
        ({"recipient": BSUID}, PHONE, "AUTHENTICATION", Address(field="to", value=PHONE)),
        ({"recipient": BSUID}, None, "AUTHENTICATION", None),
    ],
)
def test_the_address_dispatch_uses(
    address: dict[str, str], phone: str | None, category: str | None, expected: Address | None
) -> None:
    assert identity.address_for(_intent(**address), phone, category) == expected


def test_a_redelivered_number_change_changes_nothing_more() -> None:
    table: dict[str, Any] = {}
    learned(table, P, PHONE, BSUID)
    for _ in range(2):
        out = identity.change(table, P, [PHONE, BSUID], [OTHER_PHONE, NEW_BSUID])
        identity.apply(table, out.writes)
    assert identity.resolve(table, P, NEW_BSUID) == OTHER_PHONE
    assert identity.members(table, P, OTHER_PHONE) == [OTHER_PHONE, NEW_BSUID]
    assert identity.canonical_of(table, P, PHONE) is None
    assert identity.learn(table, P, [OTHER_PHONE, NEW_BSUID]).writes == {}
