"""The sandbox's send-time checks: Meta's error for a bad request or a closed window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.sandbox.rules import sends

NOW = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def _text_request(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+16505551234",
        "type": "text",
        "text": {"body": "Your order has shipped."},
    }
    for name, value in changes.items():
        if value is ...:
            del request[name]
        else:
            request[name] = value
    return request


@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param(_text_request(), id="text"),
        pytest.param(_text_request(recipient_type=...), id="no-recipient-type"),
        pytest.param(_text_request(recipient_type="group"), id="group"),
        pytest.param(_text_request(context={"message_id": "wamid.HBgLMTY1"}), id="quoted-reply"),
        pytest.param(_text_request(biz_opaque_callback_data="c" * 512), id="callback-512"),
        pytest.param(
            {
                "messaging_product": "whatsapp",
                "to": "16505551234",
                "type": "contacts",
                "contacts": [{"name": {"formatted_name": "Pablo Morales"}}],
            },
            id="contacts-list",
        ),
        pytest.param(
            {
                "messaging_product": "whatsapp",
                "to": "16505551234",
                "type": "image",
                "image": {"id": "1013859600285441"},
            },
            id="image",
        ),
        pytest.param(
            {
                "messaging_product": "whatsapp",
                "to": "16505551234",
                "type": "template",
                "template": {"name": "order_confirmation", "language": {"code": "en_US"}},
            },
            id="template",
        ),
        pytest.param(
            {
                "messaging_product": "whatsapp",
                "to": "16505551234",
                "type": "reaction",
                "reaction": {"message_id": "wamid.HBgLMTY1", "emoji": "👍"},
            },
            id="reaction",
        ),
    ],
)
def test_a_well_formed_request_passes_the_envelope_check(request_body: dict[str, Any]) -> None:
    assert sends.check_envelope(request_body) is None


@pytest.mark.parametrize(
    ("request_body", "details"),
    [
        pytest.param(_text_request(messaging_product=...), "messaging_product", id="no-product"),
        pytest.param(_text_request(messaging_product="sms"), "messaging_product", id="not-wa"),
        pytest.param(_text_request(to=...), "'to'", id="no-to"),
        pytest.param(_text_request(to=""), "'to'", id="empty-to"),
        pytest.param(_text_request(to="   "), "'to'", id="blank-to"),
        pytest.param(_text_request(to=16505551234), "'to'", id="numeric-to"),
        pytest.param(_text_request(type="fax", fax={"body": "x"}), "'fax'", id="unknown-type"),
        pytest.param(_text_request(text=...), "'text'", id="missing-type-object"),
        pytest.param(_text_request(text="just a string"), "'text'", id="type-object-not-a-dict"),
        pytest.param(
            _text_request(type="image", text=...), "'image'", id="image-without-image-object"
        ),
        pytest.param(
            _text_request(type="contacts", text=..., contacts={"name": {"formatted_name": "P"}}),
            "'contacts'",
            id="contacts-not-a-list",
        ),
        pytest.param(_text_request(recipient_type="broadcast"), "recipient_type", id="bad-rcpt"),
        pytest.param(
            _text_request(biz_opaque_callback_data="c" * 513),
            "biz_opaque_callback_data",
            id="callback-513",
        ),
        pytest.param(
            _text_request(biz_opaque_callback_data=860198),
            "biz_opaque_callback_data",
            id="callback-not-a-string",
        ),
        pytest.param(
            {
                "messaging_product": "whatsapp",
                "to": "16505551234",
                "type": "reaction",
                "reaction": {"message_id": "wamid.HBgLMTY1", "emoji": "👍"},
                "context": {"message_id": "wamid.HBgLMTY1"},
            },
            "reaction",
            id="context-on-reaction",
        ),
        pytest.param(_text_request(context={}), "context.message_id", id="context-without-id"),
        pytest.param(
            _text_request(context="wamid.HBgLMTY1"), "context.message_id", id="context-not-object"
        ),
    ],
)
def test_a_malformed_request_gets_invalid_parameter(
    request_body: dict[str, Any], details: str
) -> None:
    error = sends.check_envelope(request_body)

    assert error is not None
    assert error.code == 100
    assert error.title == "Invalid parameter"
    assert error.details is not None
    assert details in error.details


@pytest.mark.parametrize(
    ("last", "now", "is_open"),
    [
        pytest.param(None, NOW, False, id="never-wrote"),
        pytest.param(NOW, NOW, True, id="just-now"),
        pytest.param(NOW - DAY + timedelta(seconds=1), NOW, True, id="last-second"),
        pytest.param(NOW - DAY, NOW, False, id="exactly-24h"),
        pytest.param(NOW - DAY - timedelta(hours=1), NOW, False, id="25h"),
    ],
)
def test_window_open(last: datetime | None, now: datetime, is_open: bool) -> None:
    assert sends.window_open(last, now) is is_open


FREE_FORM = [
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "reaction",
]


@pytest.mark.parametrize("kind", FREE_FORM)
@pytest.mark.parametrize(
    "last",
    [pytest.param(None, id="never"), pytest.param(NOW - DAY, id="expired")],
)
def test_free_form_outside_the_window_is_a_re_engagement_error(
    kind: str, last: datetime | None
) -> None:
    error = sends.check_window(kind, last, NOW)

    assert error is not None
    assert error.code == 131047
    assert error.title == "Re-engagement message"
    assert error.details is not None
    assert "24 hours" in error.details


@pytest.mark.parametrize("kind", FREE_FORM)
def test_free_form_inside_the_window_is_allowed(kind: str) -> None:
    assert sends.check_window(kind, NOW - timedelta(hours=23), NOW) is None


@pytest.mark.parametrize(
    "last",
    [
        pytest.param(None, id="never"),
        pytest.param(NOW - timedelta(days=3), id="expired"),
        pytest.param(NOW - timedelta(hours=1), id="open"),
    ],
)
def test_templates_need_no_window(last: datetime | None) -> None:
    assert sends.check_window("template", last, NOW) is None


@pytest.mark.parametrize(
    ("recipient", "code"),
    [("15550001111", 131021), ("16505551234", None)],
    ids=["itself", "a-customer"],
)
def test_a_business_number_cannot_message_itself(recipient: str, code: int | None) -> None:
    error = sends.check_recipient(recipient, "15550001111")
    assert (error.code if error else None) == code
