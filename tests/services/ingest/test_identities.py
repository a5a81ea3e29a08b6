"""Who an item names (rules §9.1): a phone is typed, a BSUID is checked but not typed yet, and
anything else in those fields is malformed, never read into a phone."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingest import identities
from services.ingest.coerce import Malformed, NotTypedYet

BSUID = "US.13491208655302741918"
PARENT = "US.ENT.11815799212886844830"


@pytest.mark.parametrize(
    ("value", "parent", "problem"),
    [
        (BSUID, False, None),
        ("BR.8841203376615520", False, None),
        ("US." + "a" * 128, False, None),
        (PARENT, True, None),
        (BSUID, True, None),
        (PARENT, False, "is not a BSUID"),
        ("US." + "a" * 129, False, "is longer than 131 characters"),
        ("US.ENT." + "1" * 129, True, "is longer than 135 characters"),
        ("US.1349120865\r\n5302741918", False, "carries a control character"),
        ("US.13491208655302741918\n", False, "carries a control character"),
        ("13491208655302741918", False, "is not a BSUID"),
        ("us.13491208655302741918", False, "is not a BSUID"),
        ("USA.1349", False, "is not a BSUID"),
        ("US.", False, "is not a BSUID"),
        ("US.1349-1208", False, "is not a BSUID"),
        (13491208655302741918, False, "is not a string"),
    ],
)
def test_bsuid_problems(value: object, parent: bool, problem: str | None) -> None:
    found = identities.bsuid_problem(value, parent=parent)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


@pytest.mark.parametrize(
    ("item", "phone"),
    [
        ({"from": "16505551234"}, "16505551234"),
        ({"from": "16505551234", "from_user_id": BSUID}, "16505551234"),
        ({"from": "16505551234", "from_user_id": BSUID, "from_parent_user_id": PARENT},
         "16505551234"),
    ],
)  # fmt: skip
def test_a_sender_with_a_phone_is_typed_by_it(item: dict[str, Any], phone: str) -> None:
    assert identities.phone_of(item, identities.SENDER) == phone


@pytest.mark.parametrize(
    ("item", "error", "reason"),
    [
        ({"from_user_id": BSUID}, NotTypedYet,
         "names the customer only by BSUID (`from_user_id`), without `from`"),
        ({"from": "", "from_user_id": BSUID}, NotTypedYet, "only by BSUID"),
        ({"from": BSUID}, NotTypedYet, "`from` holds a BSUID, not a phone"),
        ({}, Malformed, "`from` is missing"),
        ({"from": "+1 650-555-1234"}, Malformed, "`from` is neither a phone number"),
        ({"from": "1650555123412345"}, Malformed, "`from` is neither a phone number"),
        ({"from": "16505551234\r\nX: y"}, Malformed, "`from` is neither a phone number"),
        ({"from": True}, Malformed, "`from` is not a string"),
        ({"from": 16505551234}, Malformed, "`from` is not a string"),
        ({"from": "16505551234", "from_user_id": "US.1\r\n2"}, Malformed,
         "`from_user_id` carries a control character"),
        ({"from_user_id": "US." + "9" * 129}, Malformed,
         "`from_user_id` is longer than 131 characters"),
        ({"from": "16505551234", "from_parent_user_id": "nope"}, Malformed,
         "`from_parent_user_id` is not a BSUID"),
    ],
)  # fmt: skip
def test_a_sender_without_a_phone_is_not_typed_and_a_bad_one_is_malformed(
    item: dict[str, Any], error: type[Exception], reason: str
) -> None:
    with pytest.raises(error) as raised:
        identities.phone_of(item, identities.SENDER)
    assert type(raised.value) is error
    assert reason in str(raised.value)


@pytest.mark.parametrize(
    "item",
    [
        {"recipient_user_id": BSUID},
        {"recipient_user_id": BSUID, "parent_recipient_user_id": PARENT},
        {"recipient_user_id": BSUID, "recipient_parent_user_id": PARENT},
    ],
)
def test_a_status_to_a_bsuid_alone_is_not_typed_yet(item: dict[str, Any]) -> None:
    with pytest.raises(NotTypedYet, match="without `recipient_id`"):
        identities.phone_of(item, identities.RECIPIENT)


def test_an_empty_wa_id_of_a_contact_is_absent() -> None:
    assert identities.optional_phone({"wa_id": "", "user_id": BSUID}, identities.CONTACT) is None
    assert identities.optional_phone({"wa_id": "447700900123"}, identities.CONTACT) == (
        "447700900123"
    )
    with pytest.raises(Malformed, match=r"`contacts\.user_id` carries a control"):
        identities.optional_phone({"user_id": "US.1\n"}, identities.CONTACT, "contacts")
