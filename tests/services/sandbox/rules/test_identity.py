"""Customer identity as Meta has it in 2026 (§9.1): the BSUID and parent BSUID formats, hostile
values refused, usernames, deterministic BSUIDs, the 30-day phone-sharing rule, and the identity
fields each webhook carries for each kind of customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.sandbox.rules.identity import (
    Identity,
    bsuid_problem,
    contact,
    country_of,
    generate_bsuid,
    phone_problem,
    phone_shared,
    preference_fields,
    recipient_fields,
    sender_fields,
    status_contact,
    username_problem,
    withholding_problem,
)

T0 = datetime(2026, 9, 1, tzinfo=UTC)
PHONE = "16505551234"
BSUID = "US.13491208655302741918"
PARENT = "US.ENT.11815799212886844830"


@pytest.mark.parametrize(
    ("value", "parent"),
    [
        pytest.param(BSUID, False, id="meta-example"),
        pytest.param("BR.8841203376615520", False, id="brazil"),
        pytest.param("GB.AbC123xyz", False, id="letters-too"),
        pytest.param("US.1", False, id="one-character"),
        pytest.param("US." + "a" * 128, False, id="128-after-the-dot"),
        pytest.param(PARENT, True, id="parent-with-ent"),
        pytest.param("US.11815799212886844830", True, id="parent-without-ent"),
        pytest.param("US.ENT." + "7" * 128, True, id="parent-128-after-ent"),
    ],
)
def test_well_formed_bsuids(value: str, parent: bool) -> None:
    assert bsuid_problem(value, parent=parent) is None


@pytest.mark.parametrize(
    ("value", "parent", "reason"),
    [
        pytest.param("US.1349120865\r\n5302741918", False, "control character", id="crlf"),
        pytest.param("US.13491208655302741918\n", False, "control character", id="trailing-lf"),
        pytest.param("US.134\x00912", False, "control character", id="nul"),
        pytest.param("US." + "1" * 129, False, "longer than 131", id="129-after-the-dot"),
        pytest.param("US." + "1" * 200, True, "longer than 135", id="parent-too-long"),
        pytest.param("us.13491208655302741918", False, "capitals", id="lowercase-country"),
        pytest.param("Us.13491208655302741918", False, "capitals", id="mixed-case-country"),
        pytest.param("USA.1349120865", False, "capitals", id="three-letter-country"),
        pytest.param("1.13491208655302741918", False, "capitals", id="digit-country"),
        pytest.param("US13491208655302741918", False, "dot", id="no-dot"),
        pytest.param("13491208655302741918", False, "dot", id="a-phone"),
        pytest.param("US.", False, "1 to 128", id="nothing-after-the-dot"),
        pytest.param("US.1349-1208", False, "1 to 128", id="dash"),
        pytest.param("US.1349 1208", False, "1 to 128", id="space"),
        pytest.param("US.\uff11\uff12\uff13", False, "1 to 128", id="non-ascii-digits"),
        pytest.param(PARENT, False, "1 to 128", id="parent-where-a-bsuid-is-due"),
        pytest.param("US.ENT.", True, "1 to 128", id="parent-empty"),
        pytest.param("US.ENT.1.2", True, "1 to 128", id="parent-two-dots"),
        pytest.param("", False, "non-empty string", id="empty"),
        pytest.param(13491208655302741918, False, "non-empty string", id="a-number"),
        pytest.param(None, True, "non-empty string", id="none"),
    ],
)
def test_malformed_bsuids_are_named(value: object, parent: bool, reason: str) -> None:
    _says(bsuid_problem(value, parent=parent), reason)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ana.r", None),
        ("Ana_R", None),
        ("a1b", None),
        ("x" * 35, None),
        ("ab", "3 to 35"),
        ("x" * 36, "3 to 35"),
        ("ana-r", "3 to 35"),
        ("ana r", "3 to 35"),
        ("123_456", "letter"),
        (".ana", "period"),
        ("ana.", "period"),
        ("an..a", "period"),
        ("www_ana", "web address"),
        ("ana.com", "web address"),
    ],
)
def test_usernames_follow_the_business_username_rules(name: str, reason: str | None) -> None:
    _says(username_problem(name), reason)


@pytest.mark.parametrize(
    ("digits", "reason"),
    [(PHONE, None), ("1" * 15, None), ("", "digits"), ("1" * 16, "more than 15")],
)
def test_phones(digits: str, reason: str | None) -> None:
    _says(phone_problem(digits), reason)


@pytest.mark.parametrize(
    ("phone", "withheld", "username", "reason"),
    [
        pytest.param(PHONE, False, None, None, id="phone-shown"),
        pytest.param(PHONE, True, "ana.r", None, id="adopter-withholds"),
        pytest.param(None, False, "ana.r", None, id="adopter-known-by-bsuid-only"),
        pytest.param(PHONE, True, None, "username", id="withheld-without-username"),
        pytest.param(None, False, None, "username", id="no-phone-no-username"),
    ],
)
def test_only_a_username_adopter_withholds_the_phone(
    phone: str | None, withheld: bool, username: str | None, reason: str | None
) -> None:
    _says(withholding_problem(phone, withheld, username), reason)


def _says(problem: str | None, reason: str | None) -> None:
    if reason is None:
        assert problem is None
    else:
        assert problem is not None and reason in problem


@pytest.mark.parametrize(
    ("phone", "country"),
    [(PHONE, "US"), ("5511988887777", "BR"), ("447700900000", "GB"), ("", "ZZ"), ("999", "ZZ")],
)
def test_the_country_prefix_comes_from_the_calling_code(phone: str, country: str) -> None:
    assert country_of(phone) == country


def test_generated_bsuids_are_well_formed_and_repeat() -> None:
    made = generate_bsuid("US", "portfolio-1", PHONE, 0)
    assert made == generate_bsuid("US", "portfolio-1", PHONE, 0)
    assert bsuid_problem(made) is None
    assert made.startswith("US.") and len(made) == len("US.") + 20
    others = {
        generate_bsuid("US", "portfolio-2", PHONE, 0),
        generate_bsuid("US", "portfolio-1", "16505559876", 0),
        generate_bsuid("US", "portfolio-1", PHONE, 1),
    }
    assert made not in others and len(others) == 3
    parent = generate_bsuid("BR", "linked", PHONE, 0, parent=True)
    assert parent.startswith("BR.ENT.") and bsuid_problem(parent, parent=True) is None


@pytest.mark.parametrize(
    ("phone", "withheld", "messaged_ago", "shared"),
    [
        pytest.param(PHONE, False, None, True, id="not-an-adopter"),
        pytest.param(None, False, None, False, id="no-phone-known"),
        pytest.param(PHONE, True, None, False, id="withheld-never-messaged"),
        pytest.param(PHONE, True, timedelta(days=29), True, id="withheld-messaged-29-days-ago"),
        pytest.param(PHONE, True, timedelta(days=30), True, id="withheld-messaged-30-days-ago"),
        pytest.param(
            PHONE, True, timedelta(days=30, seconds=1), False, id="withheld-messaged-too-long-ago"
        ),
    ],
)
def test_a_withheld_phone_is_shared_for_30_days_after_the_business_messaged_it(
    phone: str | None, withheld: bool, messaged_ago: timedelta | None, shared: bool
) -> None:
    messaged_at = T0 - messaged_ago if messaged_ago is not None else None
    assert phone_shared(phone, withheld, messaged_at, T0) is shared


LEGACY = Identity(wa_id=PHONE)
PHONE_CUSTOMER = Identity(wa_id=PHONE, user_id=BSUID)
ADOPTER_SHOWN = Identity(wa_id=PHONE, user_id=BSUID, username="ana.r")
ADOPTER_WITHHELD = Identity(user_id=BSUID, username="ana.r")
LINKED = Identity(wa_id=PHONE, user_id=BSUID, parent_user_id=PARENT)
KINDS = {
    "pre-2026-phone": LEGACY,
    "phone-customer": PHONE_CUSTOMER,
    "username-phone-shown": ADOPTER_SHOWN,
    "username-phone-withheld": ADOPTER_WITHHELD,
    "linked-portfolio": LINKED,
}


def _kinds(*rows: Any) -> list[Any]:
    return [pytest.param(KINDS[kind], *expected, id=kind) for kind, *expected in rows]


@pytest.mark.parametrize(
    ("who", "message", "contact_item"),
    _kinds(
        ("pre-2026-phone", {"from": PHONE}, {"profile": {"name": "Ana"}, "wa_id": PHONE}),
        (
            "phone-customer",
            {"from": PHONE, "from_user_id": BSUID},
            {"profile": {"name": "Ana"}, "wa_id": PHONE, "user_id": BSUID},
        ),
        (
            "username-phone-shown",
            {"from": PHONE, "from_user_id": BSUID},
            {"profile": {"name": "Ana", "username": "ana.r"}, "wa_id": PHONE, "user_id": BSUID},
        ),
        (
            "username-phone-withheld",
            {"from_user_id": BSUID},
            {"profile": {"name": "Ana", "username": "ana.r"}, "user_id": BSUID},
        ),
        (
            "linked-portfolio",
            {"from": PHONE, "from_user_id": BSUID, "from_parent_user_id": PARENT},
            {
                "profile": {"name": "Ana"},
                "wa_id": PHONE,
                "user_id": BSUID,
                "parent_user_id": PARENT,
            },
        ),
    ),
)
def test_inbound_fields_per_kind_of_customer(
    who: Identity, message: dict[str, str], contact_item: dict[str, Any]
) -> None:
    assert sender_fields(who) == message
    assert contact(who, "Ana") == contact_item


@pytest.mark.parametrize(
    ("who", "status_item", "preference_item"),
    _kinds(
        ("pre-2026-phone", {"recipient_id": PHONE}, {"wa_id": PHONE}),
        (
            "phone-customer",
            {"recipient_id": PHONE, "recipient_user_id": BSUID},
            {"wa_id": PHONE, "user_id": BSUID},
        ),
        (
            "username-phone-withheld",
            {"recipient_user_id": BSUID},
            {"user_id": BSUID},
        ),
        (
            "linked-portfolio",
            {
                "recipient_id": PHONE,
                "recipient_user_id": BSUID,
                "parent_recipient_user_id": PARENT,
            },
            {"wa_id": PHONE, "user_id": BSUID, "parent_user_id": PARENT},
        ),
    ),
)
def test_status_and_preference_fields_per_kind_of_customer(
    who: Identity, status_item: dict[str, str], preference_item: dict[str, str]
) -> None:
    assert recipient_fields(who) == status_item
    assert preference_fields(who) == preference_item


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("sent", {"profile": {"name": "Ana"}, "user_id": BSUID}),
        ("delivered", {"profile": {"name": "Ana", "username": "ana.r"}, "user_id": BSUID}),
        ("read", {"profile": {"name": "Ana", "username": "ana.r"}, "user_id": BSUID}),
        ("failed", None),
    ],
)
def test_the_contact_beside_a_status_never_on_failed_and_no_username_on_sent(
    state: str, expected: dict[str, Any] | None
) -> None:
    assert status_contact(ADOPTER_WITHHELD, "Ana", state) == expected
    assert status_contact(LEGACY, "Ana", state) is None
