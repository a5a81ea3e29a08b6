"""Template creation rules (§2.2): name, language, category, components, lengths, buttons,
variables, duplicates, hourly rate and the per-WABA count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.sandbox.rules.template_creation import (
    MAX_PER_HOUR,
    MAX_TEMPLATES,
    check_creation,
    check_edit,
)
from services.sandbox.rules.template_model import Template

T0 = datetime(2025, 6, 8, tzinfo=UTC)
BODY = {
    "type": "BODY",
    "text": "Your order {{1}} ships on {{2}} by courier.",
    "example": {"body_text": [["860198", "Monday"]]},
}


def _request(*components: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": list(components) or [BODY],
        **fields,
    }


def _buttons(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": "BUTTONS", "buttons": list(buttons)}


QR = {"type": "QUICK_REPLY", "text": "Stop"}
URL = {"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}", "example": ["1"]}
PHONE = {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001111"}
OTP_BODY = {"type": "BODY", "add_security_recommendation": True}
OTP = {"type": "OTP", "otp_type": "COPY_CODE"}


def _existing(n: int, name: str = "other") -> list[Template]:
    return [
        Template(str(i), f"{name}_{i}" if n > 1 else name, "en_US", "UTILITY", (), T0)
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "request_body",
    [
        pytest.param(_request(), id="minimal"),
        pytest.param(
            _request(
                {
                    "type": "HEADER",
                    "format": "TEXT",
                    "text": "Order {{1}}",
                    "example": {"header_text": ["860198"]},
                },
                BODY,
                {"type": "FOOTER", "text": "f" * 60},
                _buttons(QR, QR, URL, PHONE),
            ),
            id="all-components",
        ),
        pytest.param(
            _request(
                {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::a"]}}, BODY
            ),
            id="image-header",
        ),
        pytest.param(_request({"type": "body", "text": "b" * 1024}), id="lowercase-body-1024"),
        pytest.param(
            _request(OTP_BODY, _buttons(OTP), category="AUTHENTICATION"), id="authentication"
        ),
        pytest.param(_request(BODY, _buttons(*[QR] * 10)), id="ten-quick-replies"),
        pytest.param(_request(parameter_format="named"), id="named"),
        pytest.param(_request(name="x" * 512), id="name-512"),
        pytest.param(
            _request(language="pt_BR", category="marketing"), id="pt_BR-lowercase-category"
        ),
    ],
)
def test_a_valid_creation_request_is_accepted(request_body: dict[str, Any]) -> None:
    assert check_creation(request_body, _existing(3), 0) is None


@pytest.mark.parametrize(
    ("request_body", "code", "details"),
    [
        pytest.param(_request(name="Order-Update"), 100, "lowercase", id="name-case"),
        pytest.param(_request(name="x" * 513), 100, "512", id="name-513"),
        pytest.param(_request(name=""), 100, "name", id="name-empty"),
        pytest.param(_request(language="english"), 100, "language", id="language"),
        pytest.param(_request(category="PROMOTIONAL"), 100, "category", id="category"),
        pytest.param(_request(parameter_format="mixed"), 100, "parameter_format", id="format"),
        pytest.param(_request(components=[]), 100, "components", id="no-components"),
        pytest.param(
            _request({"type": "FOOTER", "text": "f"}), 100, "exactly one BODY", id="no-body"
        ),
        pytest.param(_request(BODY, BODY), 100, "exactly one BODY", id="two-bodies"),
        pytest.param(
            _request(BODY, {"type": "FOOTER", "text": "a"}, {"type": "FOOTER", "text": "b"}),
            100,
            "at most one",
            id="two-footers",
        ),
        pytest.param(_request(BODY, {"type": "CAROUSEL"}), 100, "CAROUSEL", id="unknown-component"),
        pytest.param(
            _request({"type": "BODY", "text": "b" * 1025}), 2388040, "1024", id="body-1025"
        ),
        pytest.param(_request({"type": "BODY", "text": " "}), 131008, "BODY.text", id="body-blank"),
        pytest.param(
            _request({"type": "HEADER", "format": "TEXT", "text": "h" * 61}, BODY),
            2388040,
            "60",
            id="header-61",
        ),
        pytest.param(
            _request(BODY, {"type": "FOOTER", "text": "f" * 61}), 2388040, "60", id="footer-61"
        ),
        pytest.param(
            _request({"type": "HEADER", "format": "AUDIO"}, BODY),
            2388047,
            "format",
            id="header-format",
        ),
        pytest.param(
            _request(
                {
                    "type": "HEADER",
                    "format": "TEXT",
                    "text": "{{1}} and {{2}}",
                    "example": {"header_text": ["a", "b"]},
                },
                BODY,
            ),
            2388047,
            "one variable",
            id="header-two-variables",
        ),
        pytest.param(
            _request(BODY, {"type": "FOOTER", "text": "Hi {{1}}"}),
            2388073,
            "footer",
            id="footer-var",
        ),
        pytest.param(
            _request({"type": "BODY", "text": "{{1}} is your order number today.", "example": {}}),
            2388299,
            "start or end",
            id="leading-variable",
        ),
        pytest.param(
            _request({"type": "BODY", "text": "Your order number is {{1}}", "example": {}}),
            2388299,
            "start or end",
            id="trailing-variable",
        ),
        pytest.param(
            _request(
                {
                    "type": "BODY",
                    "text": "Hi {{1}} {{2}} {{3}} ok",
                    "example": {"body_text": [["a", "b", "c"]]},
                }
            ),
            2388293,
            "too many variables",
            id="too-many-variables",
        ),
        pytest.param(
            _request({"type": "BODY", "text": "Your order {{1}} ships on Monday."}),
            100,
            "examples",
            id="no-example",
        ),
        pytest.param(_request(BODY, _buttons()), 100, "1 to 10", id="no-buttons"),
        pytest.param(_request(BODY, _buttons(*[QR] * 11)), 100, "1 to 10", id="eleven-buttons"),
        pytest.param(_request(BODY, _buttons(URL, URL, URL)), 100, "2 URL", id="three-urls"),
        pytest.param(_request(BODY, _buttons(PHONE, PHONE)), 100, "1 PHONE", id="two-phones"),
        pytest.param(_request(BODY, _buttons(QR, URL, QR)), 100, "grouped", id="split-replies"),
        pytest.param(_request(BODY, _buttons({"type": "CALL"})), 100, "CALL", id="button-type"),
        pytest.param(
            _request(BODY, _buttons({**QR, "text": "t" * 26})), 2388040, "25", id="label-26"
        ),
        pytest.param(
            _request(BODY, _buttons({"type": "QUICK_REPLY"})), 131008, "text", id="no-label"
        ),
        pytest.param(
            _request(BODY, _buttons({**URL, "url": "https://x/" + "a" * 2000})),
            100,
            "2000",
            id="url",
        ),
        pytest.param(
            _request(BODY, _buttons({**URL, "example": None})), 100, "example", id="url-no-example"
        ),
        pytest.param(
            _request(BODY, _buttons({**PHONE, "phone_number": "1" * 21})), 100, "20", id="phone-21"
        ),
        pytest.param(
            _request(OTP_BODY, _buttons(QR), category="AUTHENTICATION"),
            100,
            "OTP",
            id="auth-no-otp",
        ),
        pytest.param(
            _request(OTP_BODY, category="AUTHENTICATION"), 100, "OTP", id="auth-no-buttons"
        ),
        pytest.param(
            _request(
                {"type": "HEADER", "format": "IMAGE"},
                OTP_BODY,
                _buttons(OTP),
                category="AUTHENTICATION",
            ),
            2388047,
            "AUTHENTICATION",
            id="auth-media",
        ),
    ],
)
def test_an_invalid_creation_request_gets_metas_code(
    request_body: dict[str, Any], code: int, details: str
) -> None:
    error = check_creation(request_body, [], 0)

    assert error is not None
    assert error.code == code
    assert error.details is not None and details in error.details


def test_the_same_name_is_allowed_in_another_language_only() -> None:
    existing = _existing(1, "order_update")

    assert check_creation(_request(language="es"), existing, 0) is None
    error = check_creation(_request(), existing, 0)
    assert error is not None and error.code == 100 and "already exists" in str(error.details)


def test_at_most_100_templates_an_hour() -> None:
    assert check_creation(_request(), [], MAX_PER_HOUR - 1) is None
    error = check_creation(_request(), [], MAX_PER_HOUR)
    assert error is not None and error.code == 80007


def test_at_most_250_templates_per_waba() -> None:
    assert check_creation(_request(), _existing(MAX_TEMPLATES - 1), 0) is None
    error = check_creation(_request(), _existing(MAX_TEMPLATES), 0)
    assert error is not None and error.code == 2388019


NOW = datetime(2025, 7, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _stored(status: str = "APPROVED", edits: tuple[datetime, ...] = ()) -> Template:
    return Template(
        "1", "order_update", "en_US", "UTILITY", (BODY,), T0, status=status, edits=edits
    )


@pytest.mark.parametrize(
    ("template", "body"),
    [
        pytest.param(_stored(), {"components": [BODY]}, id="approved-components"),
        pytest.param(_stored(), {"message_send_ttl_seconds": 3600}, id="ttl"),
        pytest.param(
            _stored(edits=(NOW - 2 * DAY,)), {"components": [BODY]}, id="edited-2-days-ago"
        ),
        pytest.param(_stored("REJECTED"), {"category": "MARKETING"}, id="rejected-category"),
        pytest.param(
            _stored("PAUSED", edits=(NOW,) * 20), {"components": [BODY]}, id="paused-unlimited"
        ),
    ],
)
def test_allowed_edits(template: Template, body: dict[str, Any]) -> None:
    assert check_edit(template, body, NOW) is None


@pytest.mark.parametrize(
    ("template", "body", "details"),
    [
        pytest.param(_stored("PENDING"), {"components": [BODY]}, "PENDING", id="pending"),
        pytest.param(_stored("DISABLED"), {"components": [BODY]}, "DISABLED", id="disabled"),
        pytest.param(_stored(), {"name": "other"}, "can be edited", id="name"),
        pytest.param(_stored(), {}, "can be edited", id="nothing"),
        pytest.param(
            _stored(), {"category": "MARKETING"}, "category of an approved", id="category"
        ),
        pytest.param(
            _stored("REJECTED"), {"category": "PROMO"}, "category must", id="bad-category"
        ),
        pytest.param(
            _stored(edits=(NOW - timedelta(hours=23),)),
            {"components": [BODY]},
            "24 hours",
            id="daily",
        ),
        pytest.param(
            _stored(edits=tuple(NOW - (i + 2) * DAY for i in range(10))),
            {"components": [BODY]},
            "10 times",
            id="ten-in-30-days",
        ),
        pytest.param(
            _stored(), {"components": [{"type": "FOOTER", "text": "x"}]}, "BODY", id="bad"
        ),
    ],
)
def test_refused_edits(template: Template, body: dict[str, Any], details: str) -> None:
    error = check_edit(template, body, NOW)

    assert error is not None and error.code == 100
    assert error.details is not None and details in error.details


def test_a_reserved_name_cannot_be_reused() -> None:
    assert check_creation(_request(), [], 0, reserved={"other"}) is None
    error = check_creation(_request(), [], 0, reserved={"order_update"})
    assert error is not None and error.code == 100 and "30 days" in str(error.details)


@pytest.mark.parametrize(
    ("footer", "ok"),
    [
        pytest.param({"type": "FOOTER", "code_expiration_minutes": 10}, True, id="expiry"),
        pytest.param({"type": "FOOTER", "code_expiration_minutes": 1}, True, id="one-minute"),
        pytest.param({"type": "FOOTER", "code_expiration_minutes": 90}, True, id="ninety"),
        pytest.param({"type": "FOOTER"}, True, id="no-expiry"),
        pytest.param({"type": "FOOTER", "code_expiration_minutes": 91}, False, id="too-long"),
        pytest.param({"type": "FOOTER", "code_expiration_minutes": 0}, False, id="zero"),
        pytest.param({"type": "FOOTER", "code_expiration_minutes": "10"}, False, id="string"),
    ],
)
def test_an_authentication_footer_carries_only_the_expiry(footer: dict[str, Any], ok: bool) -> None:
    request_body = _request(OTP_BODY, footer, _buttons(OTP), category="AUTHENTICATION")
    error = check_creation(request_body, [], 0)
    assert (error is None) is ok, error
