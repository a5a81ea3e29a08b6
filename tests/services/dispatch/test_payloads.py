"""Outbound intent -> the Cloud API's send-message request body (§1.2, §1.3, §2.1)."""

from __future__ import annotations

from typing import Any

import pytest

from services.dispatch.payloads import build
from shared.events.intents import (
    ContactsContent,
    InteractiveContent,
    LocationContent,
    MediaContent,
    MessageContent,
    OutboundIntentSubmitted,
    ReactionContent,
    TemplateContent,
    TextContent,
)

PNID = "106540352242922"
TO = "+16505551234"
INTENT_ID = "gw:7f3c2a9e:order-860198"
INBOUND_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="

BUTTONS = {
    "type": "button",
    "body": {"text": "Do you want to change the delivery date?"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "change-button", "title": "Change"}},
            {"type": "reply", "reply": {"id": "keep-button", "title": "Keep"}},
        ]
    },
}
CONTACT = {
    "name": {"formatted_name": "Pablo Morales", "first_name": "Pablo", "last_name": "Morales"},
    "phones": [{"phone": "+1 (650) 555-1234", "type": "WORK", "wa_id": "16505551234"}],
    "emails": [{"email": "pablo@example.com", "type": "WORK"}],
}
COMPONENTS: list[dict[str, Any]] = [
    {"type": "header", "parameters": [{"type": "image", "image": {"id": "2871834006348767"}}]},
    {
        "type": "body",
        "parameters": [
            {"type": "text", "parameter_name": "first_name", "text": "Jessica"},
            {"type": "text", "parameter_name": "order_number", "text": "SKBUP2-4CPIG9"},
        ],
    },
    {
        "type": "button",
        "sub_type": "url",
        "index": 0,
        "parameters": [{"type": "text", "text": "SKBUP2-4CPIG9"}],
    },
]


def _intent(content: MessageContent, reply_to: str | None = None) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=INTENT_ID,
        phone_number_id=PNID,
        to=TO,
        content=content,
        reply_to=reply_to,
        metadata={"order": "860198"},
    )


CASES: list[Any] = [
    pytest.param(
        TextContent(body="Your order has shipped: https://example.com/t/1", preview_url=True),
        "text",
        {"body": "Your order has shipped: https://example.com/t/1", "preview_url": True},
        id="text",
    ),
    pytest.param(
        MediaContent(type="image", id="1013859600285441", caption="The blue one"),
        "image",
        {"id": "1013859600285441", "caption": "The blue one"},
        id="image-by-id",
    ),
    pytest.param(
        MediaContent(type="image", link="https://example.com/a.png"),
        "image",
        {"link": "https://example.com/a.png"},
        id="image-by-link",
    ),
    pytest.param(
        MediaContent(
            type="document",
            link="https://example.com/invoice.pdf",
            caption="Your invoice",
            filename="invoice.pdf",
        ),
        "document",
        {
            "link": "https://example.com/invoice.pdf",
            "caption": "Your invoice",
            "filename": "invoice.pdf",
        },
        id="document-by-link",
    ),
    pytest.param(
        MediaContent(type="video", id="1013859600285442"),
        "video",
        {"id": "1013859600285442"},
        id="video-by-id",
    ),
    pytest.param(
        MediaContent(type="audio", id="1013859600285443"),
        "audio",
        {"id": "1013859600285443"},
        id="audio-by-id",
    ),
    pytest.param(
        MediaContent(type="sticker", link="https://example.com/s.webp"),
        "sticker",
        {"link": "https://example.com/s.webp"},
        id="sticker-by-link",
    ),
    pytest.param(
        LocationContent(
            latitude=37.4421,
            longitude=-122.1615,
            name="Philz Coffee",
            address="101 Forest Ave, Palo Alto, CA 94301",
        ),
        "location",
        {
            "latitude": 37.4421,
            "longitude": -122.1615,
            "name": "Philz Coffee",
            "address": "101 Forest Ave, Palo Alto, CA 94301",
        },
        id="location",
    ),
    pytest.param(
        ReactionContent(message_id=INBOUND_WAMID, emoji="😀"),
        "reaction",
        {"message_id": INBOUND_WAMID, "emoji": "😀"},
        id="reaction",
    ),
    pytest.param(
        ReactionContent(message_id=INBOUND_WAMID, emoji=""),
        "reaction",
        {"message_id": INBOUND_WAMID, "emoji": ""},
        id="reaction-removed",
    ),
    pytest.param(InteractiveContent(interactive=BUTTONS), "interactive", BUTTONS, id="interactive"),
    pytest.param(ContactsContent(contacts=[CONTACT]), "contacts", [CONTACT], id="contacts"),
]


@pytest.mark.parametrize(("content", "kind", "expected"), CASES)
def test_the_content_goes_under_the_key_named_by_type(
    content: MessageContent, kind: str, expected: Any
) -> None:
    body = build(_intent(content))

    assert body["type"] == kind
    assert body[kind] == expected
    assert set(body) == {
        "messaging_product",
        "recipient_type",
        "to",
        "type",
        "biz_opaque_callback_data",
        kind,
    }


@pytest.mark.parametrize(("content", "kind", "expected"), CASES)
def test_the_envelope_of_every_request(content: MessageContent, kind: str, expected: Any) -> None:
    body = build(_intent(content))

    assert body["messaging_product"] == "whatsapp"
    assert body["recipient_type"] == "individual"
    assert body["to"] == TO
    assert body["biz_opaque_callback_data"] == INTENT_ID


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(TextContent(body="Yes, in blue too."), id="text"),
        pytest.param(MediaContent(type="image", id="1013859600285441"), id="image"),
        pytest.param(InteractiveContent(interactive=BUTTONS), id="interactive"),
        pytest.param(ContactsContent(contacts=[CONTACT]), id="contacts"),
        pytest.param(LocationContent(latitude=37.4421, longitude=-122.1615), id="location"),
    ],
)
def test_reply_to_becomes_the_context_of_a_quoted_reply(content: MessageContent) -> None:
    body = build(_intent(content, reply_to=INBOUND_WAMID))

    assert body["context"] == {"message_id": INBOUND_WAMID}


def test_a_reaction_never_carries_a_context_even_with_reply_to() -> None:
    body = build(_intent(ReactionContent(message_id=INBOUND_WAMID, emoji="👍"), INBOUND_WAMID))

    assert "context" not in body
    assert body["reaction"] == {"message_id": INBOUND_WAMID, "emoji": "👍"}


def test_without_reply_to_there_is_no_context() -> None:
    assert "context" not in build(_intent(TextContent(body="Hello")))


TEMPLATE = TemplateContent(name="order_confirmation", language="en_US", components=COMPONENTS)


def test_a_template_is_sent_as_metas_template_object() -> None:
    body = build(_intent(TEMPLATE))

    assert body["type"] == "template"
    assert body["template"] == {
        "name": "order_confirmation",
        "language": {"code": "en_US"},
        "components": COMPONENTS,
    }


@pytest.mark.parametrize("language", ["en_US", "pt_BR", "es"])
def test_the_template_language_is_sent_as_a_code_object(language: str) -> None:
    template = TemplateContent(name="order_confirmation", language=language)

    body = build(_intent(template))

    assert body["template"]["language"] == {"code": language}


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(MediaContent(type="image", id="1013859600285441"), id="media"),
        pytest.param(LocationContent(latitude=1.5, longitude=2.5), id="location"),
    ],
)
def test_absent_optional_fields_are_left_out(content: MessageContent) -> None:
    body = build(_intent(content))

    assert None not in body[content.type].values()
