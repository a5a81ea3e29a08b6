"""Outbound intents: what a business system may ask for, validated before it reaches a topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

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

NOW = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
PNID = "106540352242922"
INBOUND_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


def _intent_json(content: dict[str, Any], **fields: Any) -> str:
    return json.dumps(
        {
            "intent_id": "order-860198",
            "phone_number_id": PNID,
            "to": "+16505551234",
            "content": content,
            **fields,
        }
    )


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        pytest.param("", False, id="empty"),
        pytest.param("a", True, id="one-char"),
        pytest.param("x" * 4096, True, id="4096-chars"),
        pytest.param("x" * 4097, False, id="4097-chars"),
        pytest.param("😀" * 4096, True, id="4096-emoji"),
    ],
)
def test_text_body_is_1_to_4096_characters(body: str, valid: bool) -> None:
    if valid:
        assert TextContent(body=body).body == body
    else:
        with pytest.raises(ValidationError, match="body"):
            TextContent(body=body)


MEDIA_TYPES = ["image", "video", "audio", "document", "sticker"]


@pytest.mark.parametrize("kind", MEDIA_TYPES)
@pytest.mark.parametrize(
    "source",
    [
        pytest.param({"id": "1013859600285441"}, id="by-id"),
        pytest.param({"link": "https://example.com/media/a1"}, id="by-link"),
    ],
)
def test_media_with_exactly_one_source_is_valid(kind: str, source: dict[str, str]) -> None:
    media = MediaContent.model_validate({"type": kind, **source})

    assert media.type == kind
    assert (media.id, media.link) == (source.get("id"), source.get("link"))


@pytest.mark.parametrize("kind", MEDIA_TYPES)
@pytest.mark.parametrize(
    "source",
    [
        pytest.param({}, id="neither"),
        pytest.param({"id": "1013859600285441", "link": "https://example.com/a.png"}, id="both"),
        pytest.param({"id": None, "link": None}, id="both-null"),
        pytest.param({"id": "1013859600285441", "ref": "sha256:" + "a" * 64}, id="id-and-ref"),
    ],
)
def test_media_needs_exactly_one_of_id_or_link(kind: str, source: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="exactly one of `id`, `link` or `ref`"):
        MediaContent.model_validate({"type": kind, **source})


@pytest.mark.parametrize(
    ("caption", "valid"), [("c" * 1024, True), ("c" * 1025, False), (None, True)]
)
def test_media_caption_is_at_most_1024_characters(caption: str | None, valid: bool) -> None:
    data = {"type": "image", "id": "1013859600285441", "caption": caption}
    if valid:
        assert MediaContent.model_validate(data).caption == caption
    else:
        with pytest.raises(ValidationError, match="caption"):
            MediaContent.model_validate(data)


@pytest.mark.parametrize(
    ("content", "model"),
    [
        ({"type": "text", "body": "Your order has shipped.", "preview_url": True}, TextContent),
        ({"type": "image", "id": "1013859600285441", "caption": "Blue"}, MediaContent),
        ({"type": "video", "link": "https://example.com/demo.mp4"}, MediaContent),
        ({"type": "audio", "id": "1013859600285442"}, MediaContent),
        (
            {"type": "document", "link": "https://example.com/i.pdf", "filename": "invoice.pdf"},
            MediaContent,
        ),
        ({"type": "sticker", "id": "1013859600285443"}, MediaContent),
        (
            {
                "type": "location",
                "latitude": 37.4421,
                "longitude": -122.1615,
                "name": "Philz Coffee",
                "address": "101 Forest Ave, Palo Alto, CA 94301",
            },
            LocationContent,
        ),
        ({"type": "reaction", "message_id": INBOUND_WAMID, "emoji": "😀"}, ReactionContent),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "Change the delivery date?"},
                    "action": {
                        "buttons": [
                            {"type": "reply", "reply": {"id": "change-button", "title": "Change"}}
                        ]
                    },
                },
            },
            InteractiveContent,
        ),
        (
            {
                "type": "contacts",
                "contacts": [
                    {
                        "name": {"formatted_name": "Pablo Morales"},
                        "phones": [{"phone": "+16505551234", "wa_id": "16505551234"}],
                    }
                ],
            },
            ContactsContent,
        ),
        (
            {
                "type": "template",
                "name": "order_confirmation",
                "language": "en_US",
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": "Jessica"}]}
                ],
            },
            TemplateContent,
        ),
    ],
    ids=lambda v: v["type"] if isinstance(v, dict) else None,
)
def test_content_is_parsed_by_its_type(content: dict[str, Any], model: type[Any]) -> None:
    intent = OutboundIntentSubmitted.model_validate_json(_intent_json(content))

    assert type(intent.content) is model
    assert intent.content.type == content["type"]
    assert intent.is_template is (content["type"] == "template")
    dumped = intent.content.model_dump(exclude_none=True)
    assert {k: dumped[k] for k in content} == content


@pytest.mark.parametrize(
    "content",
    [
        pytest.param({"type": "fax", "body": "hi"}, id="unknown-type"),
        pytest.param({"body": "no type given"}, id="no-type"),
        pytest.param({"type": "text"}, id="text-without-body"),
        pytest.param({"type": "image"}, id="image-without-source"),
        pytest.param({"type": "reaction", "emoji": "😀"}, id="reaction-without-target"),
        pytest.param({"type": "contacts", "contacts": []}, id="no-contacts"),
        pytest.param({"type": "interactive"}, id="interactive-without-object"),
        pytest.param({"type": "template", "name": "", "language": "en_US"}, id="template-no-name"),
        pytest.param(
            {"type": "template", "name": "order_confirmation", "language": "e"},
            id="template-language-too-short",
        ),
        pytest.param(
            {"type": "template", "name": "n" * 513, "language": "en_US"},
            id="template-name-too-long",
        ),
    ],
)
def test_invalid_content_is_refused(content: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="content"):
        OutboundIntentSubmitted.model_validate_json(_intent_json(content))


@pytest.mark.parametrize(
    ("latitude", "longitude", "valid"),
    [
        (90, 180, True),
        (-90, -180, True),
        (90.0001, 0, False),
        (-90.0001, 0, False),
        (0, 180.0001, False),
        (0, -180.0001, False),
    ],
)
def test_location_coordinates_are_within_range(
    latitude: float, longitude: float, valid: bool
) -> None:
    if valid:
        location = LocationContent(latitude=latitude, longitude=longitude)
        assert (location.latitude, location.longitude) == (latitude, longitude)
    else:
        with pytest.raises(ValidationError):
            LocationContent(latitude=latitude, longitude=longitude)


@pytest.mark.parametrize(
    ("intent_id", "valid"),
    [
        pytest.param("", False, id="empty"),
        pytest.param("k", True, id="1-char"),
        pytest.param("k" * 128, True, id="128-chars"),
        pytest.param("k" * 129, False, id="129-chars"),
    ],
)
def test_intent_id_is_1_to_128_characters(intent_id: str, valid: bool) -> None:
    data = _intent_json({"type": "text", "body": "hi"}, intent_id=intent_id)
    if valid:
        assert OutboundIntentSubmitted.model_validate_json(data).intent_id == intent_id
    else:
        with pytest.raises(ValidationError, match="intent_id"):
            OutboundIntentSubmitted.model_validate_json(data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone_number_id", ""),
        ("to", ""),
        ("priority", "urgent"),
        ("category", "authentication"),
        ("not_after", "2025-06-08T23:00:00"),
    ],
)
def test_invalid_envelope_fields_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        OutboundIntentSubmitted.model_validate_json(
            _intent_json({"type": "text", "body": "hi"}, **{field: value})
        )


def test_defaults_of_a_minimal_intent() -> None:
    intent = OutboundIntentSubmitted.model_validate_json(
        _intent_json({"type": "text", "body": "hi"})
    )

    assert intent.priority == "notification"
    assert intent.not_after is None
    assert intent.reply_to is None
    assert intent.fallback_template is None
    assert intent.metadata == {}
    assert intent.content == TextContent(body="hi", preview_url=False)


def test_aware_not_after_is_kept() -> None:
    intent = OutboundIntentSubmitted.model_validate_json(
        _intent_json({"type": "text", "body": "hi"}, not_after="2025-06-08T23:00:00+02:00")
    )

    assert intent.not_after == datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)


def test_intents_are_immutable() -> None:
    intent = OutboundIntentSubmitted(
        intent_id="order-860198",
        phone_number_id=PNID,
        to="16505551234",
        content=TextContent(body="hi"),
    )

    with pytest.raises(ValidationError):
        intent.to = "16505559876"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kind", "extra", "valid"),
    [
        pytest.param("image", {"caption": "Your receipt"}, True, id="image-caption"),
        pytest.param("video", {"caption": "Unboxing"}, True, id="video-caption"),
        pytest.param(
            "document",
            {"caption": "Invoice", "filename": "invoice.pdf"},
            True,
            id="document-caption-and-filename",
        ),
        pytest.param("audio", {"caption": "Voice note"}, False, id="audio-caption"),
        pytest.param("sticker", {"caption": "Hi"}, False, id="sticker-caption"),
        pytest.param("image", {"filename": "a.png"}, False, id="image-filename"),
        pytest.param("video", {"filename": "a.mp4"}, False, id="video-filename"),
    ],
)
def test_media_fields_belong_to_their_kinds(kind: str, extra: dict[str, str], valid: bool) -> None:
    if valid:
        assert MediaContent(type=kind, id="1013859600285441", **extra).type == kind  # type: ignore[arg-type]
    else:
        with pytest.raises(ValidationError, match="allowed on"):
            MediaContent(type=kind, id="1013859600285441", **extra)  # type: ignore[arg-type]
