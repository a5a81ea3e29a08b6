"""Dispatch names the customer as Meta wants (rules §9.1): a BSUID in `recipient`, a phone in
`to`, never both; it reads the identifiers a send's answer returns (`contacts[]`) and says
what they add to the identifier it sent."""

from __future__ import annotations

import pytest

from services.dispatch import cloudapi, payloads
from services.dispatch.reports import sent_identity
from shared.events.decisions import Address
from shared.events.identity import CustomerIdentity
from shared.events.intents import OutboundIntentSubmitted, TextContent

BSUID = "BR.8841203376615520"
PHONE = "5511987654321"


def intent(**address: str) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id="1", content=TextContent(body="Olá"), **address
    )


@pytest.mark.parametrize(
    ("address", "decided", "field", "value"),
    [
        ({"to": "+55 11 98765-4321"}, None, "to", "+55 11 98765-4321"),
        ({"recipient": BSUID}, None, "recipient", BSUID),
        ({"recipient": "US.ENT.1181579921"}, None, "recipient", "US.ENT.1181579921"),
        ({"recipient": BSUID}, Address(field="recipient", value=BSUID), "recipient", BSUID),
        # policy found the phone an authentication template must go to
        ({"recipient": BSUID}, Address(field="to", value=PHONE), "to", PHONE),
    ],
)
def test_the_request_names_the_customer_in_one_field(
    address: dict[str, str], decided: Address | None, field: str, value: str
) -> None:
    body = payloads.build(intent(**address), decided)
    assert body[field] == value
    assert ({"to", "recipient"} - {field}).isdisjoint(body)
    assert body["recipient_type"] == "individual"


def test_the_answer_keeps_the_identifiers_meta_returns() -> None:
    text = (
        '{"messaging_product": "whatsapp", "contacts": [{"input": "BR.8841203376615520", '
        '"user_id": "BR.8841203376615520", "wa_id": 7}], "messages": [{"id": "wamid.X"}]}'
    )
    answer = cloudapi._parse(200, text)
    assert answer.wamid == "wamid.X"
    assert answer.contacts == ({"input": BSUID, "user_id": BSUID},)
    assert cloudapi._parse(200, '{"contacts": "x", "messages": [{"id": "w"}]}').contacts == ()


Who = CustomerIdentity


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        # Meta's answer to a BSUID send: nothing new
        ({"input": BSUID, "user_id": BSUID}, None),
        ({"input": "16505551234", "wa_id": "16505551234"}, None),
        ({"input": "+1 650-555-1234", "wa_id": "16505551234"}, None),
        # Brazil: the number on file lacks the ninth digit Meta's wa_id has
        ({"input": "551187654321", "wa_id": PHONE},
         (Who(wa_id="551187654321"), Who(wa_id=PHONE))),
        # a phone send that also names the BSUID
        ({"input": PHONE, "wa_id": PHONE, "user_id": BSUID},
         (Who(wa_id=PHONE), Who(wa_id=PHONE, user_id=BSUID))),
        # malformed: ignored
        ({"input": PHONE, "user_id": "BR.1\n"}, None),
        ({"input": "", "wa_id": PHONE}, None),
    ],
)  # fmt: skip
def test_what_an_answer_adds_to_the_identifier_sent(
    contact: dict[str, str], expected: tuple[Who, Who] | None
) -> None:
    assert sent_identity(contact) == expected
