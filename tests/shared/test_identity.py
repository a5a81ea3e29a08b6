"""The contract's customer identity: a BSUID is kept exactly as given and pattern-checked, a
customer needs a phone or a BSUID, an intent addresses by `to` or by `recipient` (exactly one),
and keys never turn a BSUID into digits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.events.identity import CustomerIdentity, CustomerIdentityChanged, is_bsuid
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.events.keys import conversation_key, normalize_wa_id
from shared.events.preferences import UserPreferenceChanged
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported

BSUID = "US.13491208655302741918"


@pytest.mark.parametrize(
    "value",
    [BSUID, "BR.8841203376615520", "US.a", "US." + "A1" * 64, "DE.abcXYZ09"],
)
def test_well_formed_bsuids_are_kept_as_given(value: str) -> None:
    assert CustomerIdentity(user_id=value).user_id == value
    assert is_bsuid(value)
    assert normalize_wa_id(value) == value
    assert conversation_key("1", value) == f"1:{value}"


@pytest.mark.parametrize(
    "value",
    [
        "US.1349\r\n",
        "US.1349\nX",
        "US.",
        "us.1349",
        "USA.1349",
        "13491208655302741918",
        "US.1349-1208",
        "US." + "1" * 129,
        "US.ENT.1349",  # a parent spelling is no plain BSUID
        "",
    ],
)
def test_malformed_bsuids_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        CustomerIdentity(user_id=value)


def test_a_parent_bsuid_takes_both_spellings() -> None:
    for value in ("US.ENT.11815799212886844830", "US.11815799212886844830"):
        assert CustomerIdentity(parent_user_id=value).parent_user_id == value
    with pytest.raises(ValidationError):
        CustomerIdentity(parent_user_id="US.ENT." + "1" * 129)


def test_a_customer_needs_a_phone_or_a_bsuid() -> None:
    with pytest.raises(ValidationError, match="a phone"):
        CustomerIdentity(username="@ana")
    with pytest.raises(ValidationError):
        CustomerIdentity(wa_id="+1 650")  # a wa_id is digits
    who = CustomerIdentity(wa_id="16505551234", user_id=BSUID, username="@ana")
    assert (who.identifiers, who.primary) == (["16505551234", BSUID], "16505551234")


def test_phones_keep_their_one_spelling() -> None:
    assert normalize_wa_id("+1 650-555-1234") == "16505551234"


@pytest.mark.parametrize(
    ("address", "error"),
    [
        ({}, "exactly one of `to`"),
        ({"to": "16505551234", "recipient": BSUID}, "exactly one of `to`"),
        ({"recipient": "16505551234"}, "recipient"),
        ({"recipient": "US.1\r\n"}, "recipient"),
    ],
)
def test_an_intent_addresses_by_to_or_recipient(address: dict[str, str], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        OutboundIntentSubmitted(
            intent_id="i", phone_number_id="1", content=TextContent(body="hi"), **address
        )


def test_an_intent_by_recipient_names_its_customer() -> None:
    intent = OutboundIntentSubmitted(
        intent_id="i", phone_number_id="1", content=TextContent(body="hi"), recipient=BSUID
    )
    assert (intent.to, intent.customer) == (None, BSUID)


def test_events_naming_no_customer_are_refused() -> None:
    at = "2026-06-01T00:00:00Z"
    with pytest.raises(ValidationError):
        InboundMessageReceived(
            phone_number_id="1", message_id="w", timestamp=at, message_type="text"
        )
    with pytest.raises(ValidationError):
        MessageStatusReported(phone_number_id="1", message_id="w", status="sent", timestamp=at)
    with pytest.raises(ValidationError):
        UserPreferenceChanged(
            phone_number_id="1", category="marketing_messages", value="stop", timestamp=at
        )
    status = MessageStatusReported(
        phone_number_id="1", message_id="w", status="sent", timestamp=at, recipient_user_id=BSUID
    )
    assert status.identity == CustomerIdentity(user_id=BSUID) and status.customer == BSUID


def test_an_identity_change_carries_both_sides() -> None:
    change = CustomerIdentityChanged(
        phone_number_id="1",
        change="user_changed_user_id",
        previous={"user_id": BSUID},
        current={"user_id": "US.99"},
        timestamp="2026-08-11T00:00:00Z",
    )
    assert change.previous.user_id == BSUID and change.current.user_id == "US.99"
