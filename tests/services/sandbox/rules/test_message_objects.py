"""Field rules and limits of every free-form message object, with Meta's codes (§1.3, §6.6)."""

from __future__ import annotations

from typing import Any

import pytest

from services.sandbox.rules import message_objects, sends


def _send(kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": "16505551234", "type": kind, kind: obj, **extra}


VALID = [
    pytest.param("text", {"body": "hi", "preview_url": True}, id="text"),
    pytest.param("image", {"id": "1013859600285441", "caption": "c" * 1024}, id="image-id"),
    pytest.param("image", {"link": "https://example.com/a.png"}, id="image-link"),
    pytest.param("video", {"id": "1", "caption": "clip"}, id="video"),
    pytest.param("audio", {"id": "1", "voice": True}, id="voice-note"),
    pytest.param("document", {"id": "1", "caption": "x", "filename": "invoice.pdf"}, id="document"),
    pytest.param("sticker", {"id": "1"}, id="sticker"),
    pytest.param(
        "location",
        {"latitude": "37.4421", "longitude": "-122.1615", "name": "Philz", "address": "101 Forest"},
        id="location-strings",
    ),
    pytest.param("location", {"latitude": 90, "longitude": -180}, id="location-bounds"),
    pytest.param(
        "contacts",
        [{"name": {"formatted_name": "Ann Lee", "first_name": "Ann"}, "phones": [{"phone": "1"}]}],
        id="contacts",
    ),
    pytest.param("reaction", {"message_id": "wamid.X", "emoji": "\U0001f600"}, id="reaction"),
    pytest.param("reaction", {"message_id": "wamid.X", "emoji": ""}, id="reaction-removed"),
]


@pytest.mark.parametrize(("kind", "obj"), VALID)
def test_well_formed_objects_pass(kind: str, obj: Any) -> None:
    payload = _send(kind, obj)
    assert sends.check_envelope(payload) is None
    assert message_objects.check_object(kind, payload) is None


INVALID = [
    pytest.param("image", {}, 100, "exactly one", id="media-neither-id-nor-link"),
    pytest.param("image", {"id": "1", "link": "https://x"}, 100, "exactly one", id="media-both"),
    pytest.param("image", {"id": ""}, 131009, "image.id", id="media-empty-id"),
    pytest.param("image", {"link": "ftp://x/a.png"}, 131009, "link", id="media-not-http"),
    pytest.param("image", {"id": "1", "caption": "c" * 1025}, 100, "1024", id="caption-1025"),
    pytest.param("audio", {"id": "1", "caption": "x"}, 100, "caption", id="audio-caption"),
    pytest.param("sticker", {"id": "1", "caption": "x"}, 100, "caption", id="sticker-caption"),
    pytest.param("image", {"id": "1", "filename": "a.png"}, 100, "filename", id="image-filename"),
    pytest.param("video", {"id": "1", "voice": True}, 100, "voice", id="video-voice"),
    pytest.param("audio", {"id": "1", "voice": "yes"}, 100, "voice", id="voice-not-bool"),
    pytest.param("location", {"longitude": "1"}, 131008, "latitude", id="no-latitude"),
    pytest.param("location", {"latitude": "1"}, 131008, "longitude", id="no-longitude"),
    pytest.param("location", {"latitude": "91", "longitude": "0"}, 131009, "latitude", id="lat-91"),
    pytest.param("location", {"latitude": 0, "longitude": 180.5}, 131009, "longitude", id="lon"),
    pytest.param("location", {"latitude": "north", "longitude": 0}, 131009, "latitude", id="nan"),
    pytest.param("location", {"latitude": True, "longitude": 0}, 131009, "latitude", id="bool"),
    pytest.param("contacts", [], 131008, "contacts", id="contacts-empty"),
    pytest.param("contacts", [{"phones": []}], 131008, "name", id="contact-no-name"),
    pytest.param("contacts", [{"name": {}}], 131008, "formatted_name", id="no-formatted-name"),
    pytest.param(
        "contacts",
        [{"name": {"formatted_name": "A"}, "phones": {"phone": "1"}}],
        131009,
        "phones",
        id="phones-not-array",
    ),
    pytest.param("reaction", {"emoji": "x"}, 131008, "message_id", id="reaction-no-target"),
    pytest.param("reaction", {"message_id": "wamid.X"}, 131008, "emoji", id="reaction-no-emoji"),
    pytest.param(
        "reaction", {"message_id": "wamid.X", "emoji": "too long text"}, 131009, "emoji", id="words"
    ),
    pytest.param("text", {"body": "x", "preview_url": "yes"}, 100, "preview_url", id="preview"),
]


@pytest.mark.parametrize(("kind", "obj", "code", "details"), INVALID)
def test_malformed_objects_get_metas_code(kind: str, obj: Any, code: int, details: str) -> None:
    payload = _send(kind, obj)
    error = sends.check_envelope(payload) or message_objects.check_object(kind, payload)

    assert error is not None
    assert (error.code, error.title == error.message) == (code, True)
    assert error.details is not None and details in error.details


@pytest.mark.parametrize(
    ("extra", "details"),
    [
        pytest.param({"biz_opaque_callback_data": "x" * 513}, "512", id="callback-513"),
        pytest.param({"biz_opaque_callback_data": 7}, "biz_opaque", id="callback-not-string"),
        pytest.param({"recipient_type": "broadcast"}, "recipient_type", id="recipient-type"),
        pytest.param({"context": {"id": "wamid.X"}}, "context.message_id", id="context-shape"),
        pytest.param({"context": "wamid.X"}, "context.message_id", id="context-string"),
    ],
)
def test_envelope_extras_are_checked(extra: dict[str, Any], details: str) -> None:
    error = sends.check_envelope(_send("text", {"body": "hi"}, **extra))

    assert error is not None and error.code == 100
    assert error.details is not None and details in error.details


def test_context_and_callback_within_limits_pass() -> None:
    payload = _send(
        "text",
        {"body": "hi"},
        context={"message_id": "wamid.X"},
        biz_opaque_callback_data="x" * 512,
        recipient_type="individual",
    )
    assert sends.check_envelope(payload) is None


def test_a_reaction_cannot_quote_a_message() -> None:
    payload = _send(
        "reaction", {"message_id": "wamid.X", "emoji": "x"}, context={"message_id": "m"}
    )
    error = sends.check_envelope(payload)
    assert error is not None and error.details is not None and "reaction" in error.details


def test_contacts_must_be_an_array() -> None:
    error = sends.check_envelope(_send("contacts", {"name": {"formatted_name": "A"}}))
    assert error is not None and error.code == 100


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        pytest.param({"body": "a"}, True, id="one-char"),
        pytest.param({"body": "x" * 4096, "preview_url": True}, True, id="4096"),
        pytest.param({"body": "x" * 4097}, False, id="4097"),
        pytest.param({"body": ""}, False, id="empty"),
        pytest.param({}, False, id="no-body"),
        pytest.param({"body": 42}, False, id="body-not-a-string"),
        pytest.param({"body": "a", "preview_url": False}, True, id="preview-false"),
        pytest.param({"body": "a", "preview_url": "yes"}, False, id="preview-not-a-bool"),
    ],
)
def test_text_body_is_required_and_at_most_4096(text: dict[str, object], valid: bool) -> None:
    error = message_objects.check_text(text)

    if valid:
        assert error is None
    else:
        assert error is not None
        assert error.code == 100
        assert error.details is not None
        assert "text." in error.details
