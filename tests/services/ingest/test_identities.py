"""Who an item names (rules §9.1): a phone and a BSUID (and a parent) are each kept exactly as
given, an item may give either, and anything else in those fields is malformed, never read into
a phone or a BSUID."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from services.ingest import identities
from services.ingest.coerce import Malformed
from shared.events.identity import Bsuid, CustomerIdentity, ParentBsuid

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


_NEAR_BSUIDS = st.one_of(
    st.text(),
    st.from_regex(r"[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,140}\n?", fullmatch=True),
    st.builds(
        lambda cc, body, cut, junk: f"{cc}.{body[:cut]}{junk}{body[cut:]}",
        st.from_regex(r"[A-Za-z]{1,3}", fullmatch=True),
        st.text("abcXYZ0189", min_size=1, max_size=131),
        st.integers(0, 131),
        st.sampled_from(["", "\n", "\r", "\x00", "\x7f", " ", "-", ".", "é", "\u0661"]),
    ),
)


@given(_NEAR_BSUIDS, st.booleans())
def test_ingest_reads_a_bsuid_exactly_as_the_contract_defines_one(value: str, parent: bool) -> None:
    """Whatever the text, ingest accepts it as a BSUID exactly when the events' own type
    would, so nothing it passes on can fail a consumer's validation, and nothing valid is lost."""
    try:
        TypeAdapter(ParentBsuid if parent else Bsuid).validate_python(value)
        valid = True
    except ValidationError:
        valid = False
    assert (identities.bsuid_problem(value, parent=parent) is None) == valid


Who = CustomerIdentity


@pytest.mark.parametrize(
    ("item", "who"),
    [
        ({"from": "16505551234"}, Who(wa_id="16505551234")),
        ({"from": "16505551234", "from_user_id": BSUID}, Who(wa_id="16505551234", user_id=BSUID)),
        ({"from": "16505551234", "from_user_id": BSUID, "from_parent_user_id": PARENT},
         Who(wa_id="16505551234", user_id=BSUID, parent_user_id=PARENT)),
        ({"from_user_id": BSUID}, Who(user_id=BSUID)),
        ({"from": "", "from_user_id": BSUID}, Who(user_id=BSUID)),
        ({"from_user_id": BSUID, "from_parent_user_id": "US.11815799212886844830"},
         Who(user_id=BSUID, parent_user_id="US.11815799212886844830")),
        ({"from_user_id": "BR." + "a1" * 64}, Who(user_id="BR." + "a1" * 64)),
    ],
)  # fmt: skip
def test_a_sender_keeps_every_identifier_as_given(item: dict[str, Any], who: Who) -> None:
    assert identities.identity_of(item, identities.SENDER) == who


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({}, "`from` and `from_user_id` are both missing"),
        ({"from": "", "from_user_id": ""}, "are both missing"),
        ({"from": BSUID}, "`from` holds a BSUID, not a phone"),
        ({"from": "+1 650-555-1234"}, "`from` is neither a phone number"),
        ({"from": "1650555123412345"}, "`from` is neither a phone number"),
        ({"from": "16505551234\r\nX: y"}, "`from` is neither a phone number"),
        ({"from": True}, "`from` is not a string"),
        ({"from": 16505551234}, "`from` is not a string"),
        ({"from": "16505551234", "from_user_id": "US.1\r\n2"},
         "`from_user_id` carries a control character"),
        ({"from_user_id": "US.1\n"}, "`from_user_id` carries a control character"),
        ({"from_user_id": "US." + "9" * 129}, "`from_user_id` is longer than 131 characters"),
        ({"from_user_id": "13491208655302741918"}, "`from_user_id` is not a BSUID"),
        ({"from_user_id": "us.1349"}, "`from_user_id` is not a BSUID"),
        ({"from_user_id": 1349}, "`from_user_id` is not a string"),
        ({"from": "16505551234", "from_parent_user_id": "nope"},
         "`from_parent_user_id` is not a BSUID"),
    ],
)  # fmt: skip
def test_a_sender_naming_no_one_or_badly_is_malformed(item: dict[str, Any], reason: str) -> None:
    with pytest.raises(Malformed) as raised:
        identities.identity_of(item, identities.SENDER)
    assert reason in str(raised.value)


@pytest.mark.parametrize(
    ("item", "parent"),
    [
        ({"recipient_user_id": BSUID}, None),
        ({"recipient_user_id": BSUID, "parent_recipient_user_id": PARENT}, PARENT),
        ({"recipient_user_id": BSUID, "recipient_parent_user_id": PARENT}, PARENT),
        ({"recipient_user_id": BSUID, "parent_user_id": PARENT}, PARENT),
    ],
)
def test_a_status_to_a_bsuid_alone_reads_every_spelling_of_the_parent(
    item: dict[str, Any], parent: str | None
) -> None:
    who = identities.identity_of(item, identities.RECIPIENT)
    assert (who.wa_id, who.user_id, who.parent_user_id) == (None, BSUID, parent)


def test_an_empty_wa_id_of_a_contact_is_absent() -> None:
    assert identities.optional_identity({"wa_id": "", "user_id": BSUID}, identities.CONTACT) == (
        Who(user_id=BSUID)
    )
    assert identities.optional_identity({"wa_id": "447700900123"}, identities.CONTACT) == (
        Who(wa_id="447700900123")
    )
    assert identities.optional_identity({"profile": {}}, identities.CONTACT) is None
    with pytest.raises(Malformed, match=r"`contacts\.user_id` carries a control"):
        identities.optional_identity({"user_id": "US.1\n"}, identities.CONTACT, "contacts")
