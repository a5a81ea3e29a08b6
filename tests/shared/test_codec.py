"""Bytes <-> events: every event model survives a round trip, bad records raise DecodeError."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared import codec
from shared.errors import DecodeError, PermanentError
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade, WindowSnapshot
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import Event
from shared.events.intents import (
    ContactsContent,
    InteractiveContent,
    LocationContent,
    MediaContent,
    OutboundIntentSubmitted,
    ReactionContent,
    TemplateContent,
    TextContent,
)
from shared.events.webhooks import (
    InboundMessageReceived,
    MessageStatusReported,
    WebhookReceived,
)

NOW = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
PNID = "106540352242922"
WABA = "102290129340398"
CUSTOMER = "16505551234"
INBOUND_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
OUTBOUND_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA"

PAYLOAD_A = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": WABA,
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": PNID,
                        },
                        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": CUSTOMER}],
                        "messages": [
                            {
                                "from": CUSTOMER,
                                "id": INBOUND_WAMID,
                                "timestamp": "1749416383",
                                "type": "text",
                                "text": {"body": "Does it come in another color?"},
                            }
                        ],
                    },
                }
            ],
        }
    ],
}

WINDOW_ERROR = MetaError(
    code=131047,
    title="Re-engagement message",
    message="Re-engagement message",
    details="Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number.",
    href="https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
)

ORDER_TEMPLATE = TemplateContent(
    name="order_confirmation",
    language="en_US",
    components=[
        {"type": "header", "parameters": [{"type": "image", "image": {"id": "2871834006348767"}}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Jessica"},
                {"type": "text", "parameter_name": "order_number", "text": "SKBUP2-4CPIG9"},
            ],
        },
    ],
)

CONTENTS = {
    "text": TextContent(body="Your order has shipped 📦 https://example.com/t/1", preview_url=True),
    "image-id": MediaContent(type="image", id="1013859600285441", caption="Blue variant"),
    "document-link": MediaContent(
        type="document", link="https://example.com/invoice.pdf", filename="invoice.pdf"
    ),
    "location": LocationContent(
        latitude=37.4421,
        longitude=-122.1615,
        name="Philz Coffee",
        address="101 Forest Ave, Palo Alto, CA 94301",
    ),
    "reaction": ReactionContent(message_id=INBOUND_WAMID, emoji="\U0001f600"),
    "interactive": InteractiveContent(
        interactive={
            "type": "button",
            "body": {"text": "Change the delivery date?"},
            "action": {
                "buttons": [{"type": "reply", "reply": {"id": "change-button", "title": "Change"}}]
            },
        }
    ),
    "contacts": ContactsContent(
        contacts=[
            {
                "name": {"formatted_name": "Pablo Morales", "first_name": "Pablo"},
                "phones": [{"phone": "+1 (650) 555-1234", "type": "WORK", "wa_id": CUSTOMER}],
            }
        ]
    ),
    "template": ORDER_TEMPLATE,
}


def _intent(content_key: str = "text") -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        event_id="0b7c6f1e-3f3a-4c55-9f57-0d2b8c1d2e3f",
        occurred_at=NOW,
        correlation_id="corr-1",
        producer="crm",
        intent_id=f"order-860198-{content_key}",
        phone_number_id=PNID,
        to="+16505551234",
        content=CONTENTS[content_key],
        fallback_template=ORDER_TEMPLATE,
        not_after=NOW + timedelta(hours=2),
        priority="reply",
        category="service",
        reply_to=INBOUND_WAMID,
        metadata={"order": "860198"},
    )


def _events() -> dict[str, Event]:
    intent = _intent()
    return {
        "webhook-received": WebhookReceived(
            occurred_at=NOW,
            producer="ingest",
            body=json.dumps(PAYLOAD_A),
            received_at=NOW,
            signature="sha256=" + "ab" * 32,
        ),
        "inbound-message": InboundMessageReceived(
            event_id="2f0e8a43-6a52-5b7d-8a8b-8f8c7d1e2a11",
            occurred_at=NOW,
            producer="ingest",
            waba_id=WABA,
            phone_number_id=PNID,
            display_phone_number="15550783881",
            wa_id=CUSTOMER,
            contact_name="Sheena Nelson",
            message_id=INBOUND_WAMID,
            timestamp=datetime.fromtimestamp(1749416383, tz=UTC),
            message_type="text",
            text="Does it come in another color?",
            content={"body": "Does it come in another color?"},
            referral={"source_type": "ad", "source_id": "120207", "ctwa_clid": "ARAkLkA8rmlF"},
        ),
        "status-failed": MessageStatusReported(
            occurred_at=NOW,
            producer="ingest",
            waba_id=WABA,
            phone_number_id=PNID,
            message_id=OUTBOUND_WAMID,
            status="failed",
            timestamp=datetime.fromtimestamp(1751142888, tz=UTC),
            recipient_id=CUSTOMER,
            biz_opaque_callback_data="order-860198-text",
            errors=[WINDOW_ERROR],
        ),
        "status-delivered": MessageStatusReported(
            occurred_at=NOW,
            phone_number_id=PNID,
            message_id=OUTBOUND_WAMID,
            status="delivered",
            timestamp=datetime.fromtimestamp(1750263773, tz=UTC),
            recipient_id=CUSTOMER,
            pricing={
                "billable": True,
                "pricing_model": "PMP",
                "type": "regular",
                "category": "utility",
            },
        ),
        **{f"intent-{key}": _intent(key) for key in CONTENTS},
        "decision-approved": PolicyDecisionMade(
            occurred_at=NOW,
            producer="policy",
            **intent.caused(),
            intent=intent,
            outcome="approved",
            detail="inside the customer service window",
            window=WindowSnapshot(
                last_customer_message_at=NOW - timedelta(hours=1),
                expires_at=NOW + timedelta(hours=23),
                is_open=True,
            ),
            pricing="free_service",
            valid_until=NOW + timedelta(hours=2),
        ),
        "decision-rejected": PolicyDecisionMade(
            occurred_at=NOW,
            intent=intent,
            outcome="rejected",
            reasons=["WINDOW_CLOSED"],
            detail="no customer message opened a 24-hour window",
            window=WindowSnapshot(),
        ),
        "delivery-failed": DeliveryUpdated(
            occurred_at=NOW,
            producer="dispatch",
            intent_id="order-860198-text",
            phone_number_id=PNID,
            to=CUSTOMER,
            state="failed",
            wamid=OUTBOUND_WAMID,
            reasons=["131047"],
            errors=[WINDOW_ERROR],
            metadata={"order": "860198"},
        ),
    }


EVENTS = _events()


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_round_trip_gives_back_an_equal_event(name: str) -> None:
    event = EVENTS[name]

    decoded = codec.decode(type(event), codec.encode(event))

    assert decoded == event
    assert type(decoded) is type(event)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_encode_is_json_that_spells_out_every_field(name: str) -> None:
    event = EVENTS[name]

    document = json.loads(codec.encode(event))

    assert set(document) == set(type(event).model_fields)
    assert document["event_id"] == event.event_id


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_unknown_fields_from_a_newer_producer_are_ignored(name: str) -> None:
    event = EVENTS[name]
    document = json.loads(codec.encode(event))
    document["added_in_schema_v2"] = {"anything": [1, 2, 3]}
    if "intent" in document:
        document["intent"]["future_routing_hint"] = "eu-west"
        document["intent"]["content"]["future_flag"] = True
    if isinstance(event, OutboundIntentSubmitted):
        document["content"]["future_flag"] = True

    decoded = codec.decode(type(event), json.dumps(document).encode())

    assert decoded == event


VALID_INTENT = codec.encode(_intent())


def _intent_with(**changes: object) -> bytes:
    document = json.loads(VALID_INTENT)
    for name, value in changes.items():
        if value is ...:
            del document[name]
        else:
            document[name] = value
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("data", "where"),
    [
        pytest.param(b"not json at all", "<root>", id="garbage"),
        pytest.param(b"\xff\xfe\x00", "<root>", id="binary"),
        pytest.param(b"", "<root>", id="empty-bytes"),
        pytest.param(b"[1, 2]", "<root>", id="json-array"),
        pytest.param(b"null", "<root>", id="json-null"),
        pytest.param(VALID_INTENT[:-5], "<root>", id="truncated"),
        pytest.param(_intent_with(intent_id=...), "intent_id", id="missing-intent-id"),
        pytest.param(_intent_with(to=42), "to", id="to-not-a-string"),
        pytest.param(_intent_with(content={"type": "fax"}), "content", id="unknown-content"),
        pytest.param(
            _intent_with(content={"type": "text", "body": ""}),
            "content.text.body",
            id="empty-text-body",
        ),
        pytest.param(
            _intent_with(occurred_at="2025-06-08T21:00:00"), "occurred_at", id="naive-datetime"
        ),
        pytest.param(_intent_with(priority="urgent"), "priority", id="unknown-priority"),
    ],
)
def test_decode_of_a_bad_record_names_the_field(data: bytes, where: str) -> None:
    with pytest.raises(DecodeError) as raised:
        codec.decode(OutboundIntentSubmitted, data)

    message = str(raised.value)
    assert "OutboundIntentSubmitted" in message
    assert f": {where}: " in message


def test_decode_of_a_tombstone_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match="tombstone"):
        codec.decode(OutboundIntentSubmitted, None)


def test_decode_of_another_topics_event_is_rejected_naming_the_missing_field() -> None:
    delivery = codec.encode(EVENTS["delivery-failed"])

    with pytest.raises(DecodeError, match=r": content: "):
        codec.decode(OutboundIntentSubmitted, delivery)


def test_decode_errors_are_permanent_so_the_record_is_dead_lettered() -> None:
    with pytest.raises(PermanentError) as raised:
        codec.decode(DeliveryUpdated, b"{}")

    assert raised.value.retryable is False


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, None),
        ("106540352242922:16505551234", b"106540352242922:16505551234"),
        ("ключ", "ключ".encode()),
    ],
)
def test_encode_key(key: str | None, expected: bytes | None) -> None:
    assert codec.encode_key(key) == expected
