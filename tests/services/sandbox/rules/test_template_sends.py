"""Send-time template rules: exists in the language (132001), approved (132015/132016/132001),
parameter count (132000), format (132012), values (132018), media header (131008)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.sandbox.rules.template_model import Template
from services.sandbox.rules.template_sends import TemplateKey, check_template

T0 = datetime(2025, 6, 8, tzinfo=UTC)


def _template(name: str, category: str, *components: dict[str, Any], **kw: Any) -> Template:
    return Template(
        id=str(abs(hash(name)) % 10**15),
        name=name,
        language=kw.pop("language", "en_US"),
        category=category,
        components=components,
        created_at=T0,
        status=kw.pop("status", "APPROVED"),
        **kw,
    )


ORDER = _template(
    "order_confirmation",
    "UTILITY",
    {"type": "HEADER", "format": "TEXT", "text": "Order {{order_number}}"},
    {
        "type": "BODY",
        "text": "Thank you, {{first_name}}! Your order {{order_number}} is confirmed.",
    },
    {"type": "FOOTER", "text": "Lucky Shrub"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Track", "url": "https://example.com/track/{{1}}"},
            {"type": "QUICK_REPLY", "text": "Stop updates"},
        ],
    },
    parameter_format="named",
)
INVOICE = _template(
    "invoice",
    "UTILITY",
    {"type": "HEADER", "format": "DOCUMENT"},
    {"type": "BODY", "text": "Hi {{1}}, your invoice {{2}} is attached."},
)
PROMO = _template(
    "promo",
    "MARKETING",
    {"type": "BODY", "text": "Hi {{1}}, enjoy 20% off this week."},
    {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "CARIBE25"}]},
)
OTP = _template(
    "otp",
    "AUTHENTICATION",
    {"type": "BODY", "add_security_recommendation": True},
    {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
)
STATUSES = {
    s: _template(f"t_{s.lower()}", "UTILITY", {"type": "BODY", "text": "Hello there."}, status=s)
    for s in ("PAUSED", "DISABLED", "PENDING", "REJECTED", "APPROVED")
}
TEMPLATES: dict[TemplateKey, Template] = {
    (t.name, t.language): t for t in (ORDER, INVOICE, PROMO, OTP, *STATUSES.values())
}


def _send(name: str, *components: dict[str, Any], language: str = "en_US") -> dict[str, Any]:
    return {"name": name, "language": {"code": language}, "components": list(components)}


def _text(value: str, name: str | None = None) -> dict[str, Any]:
    return {"type": "text", "text": value, **({"parameter_name": name} if name else {})}


def _body(*params: dict[str, Any]) -> dict[str, Any]:
    return {"type": "body", "parameters": list(params)}


ORDER_HEADER = {"type": "header", "parameters": [_text("860198", "order_number")]}
ORDER_BODY = _body(_text("Jessica", "first_name"), _text("860198", "order_number"))
ORDER_URL = {"type": "button", "sub_type": "url", "index": 0, "parameters": [_text("860198")]}
DOC_HEADER = {
    "type": "header",
    "parameters": [{"type": "document", "document": {"id": "1", "filename": "inv.pdf"}}],
}
CODE_BUTTON = {
    "type": "button",
    "sub_type": "copy_code",
    "index": 0,
    "parameters": [{"type": "coupon_code", "coupon_code": "CARIBE25"}],
}
OTP_BUTTON = {"type": "button", "sub_type": "url", "index": 0, "parameters": [_text("123456")]}


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(_send("order_confirmation", ORDER_HEADER, ORDER_BODY, ORDER_URL), id="named"),
        pytest.param(
            _send(
                "order_confirmation",
                ORDER_URL,
                _body(_text("860198", "order_number"), _text("Jessica", "first_name")),
                ORDER_HEADER,
            ),
            id="named-any-order",
        ),
        pytest.param(_send("invoice", DOC_HEADER, _body(_text("Ann"), _text("INV-1"))), id="doc"),
        pytest.param(
            _send(
                "invoice",
                {
                    "type": "header",
                    "parameters": [{"type": "document", "document": {"link": "https://x/a.pdf"}}],
                },
                _body(
                    _text("Ann"),
                    {
                        "type": "currency",
                        "currency": {"fallback_value": "$1", "code": "USD", "amount_1000": 1000},
                    },
                ),
            ),
            id="doc-link-currency",
        ),
        pytest.param(_send("promo", _body(_text("Ann")), CODE_BUTTON), id="marketing-copy-code"),
        pytest.param(_send("otp", _body(_text("123456")), OTP_BUTTON), id="authentication"),
        pytest.param(_send("t_approved"), id="no-variables-no-components"),
    ],
)
def test_a_matching_send_passes(template: dict[str, Any]) -> None:
    assert check_template(template, TEMPLATES) is None


@pytest.mark.parametrize(
    ("template", "code", "details"),
    [
        pytest.param({"language": {"code": "en_US"}}, 131008, "name", id="no-name"),
        pytest.param({"name": "promo"}, 131008, "language", id="no-language"),
        pytest.param(
            {"name": "promo", "language": "en_US"}, 131008, "language.code", id="lang-str"
        ),
        pytest.param(_send("nope"), 132001, "does not exist", id="unknown-name"),
        pytest.param(_send("promo", language="pt_BR"), 132001, "pt_BR", id="missing-in-language"),
        pytest.param(_send("promo", language="en"), 132001, "does not exist", id="en-is-not-en_US"),
        pytest.param(_send("t_paused"), 132015, "paused", id="paused"),
        pytest.param(_send("t_disabled"), 132016, "disabled", id="disabled"),
        pytest.param(_send("t_pending"), 132001, "PENDING", id="pending"),
        pytest.param(_send("t_rejected"), 132001, "REJECTED", id="rejected"),
        pytest.param(_send("promo"), 132000, "expected 1", id="missing-body-params"),
        pytest.param(
            _send("promo", _body(_text("a"), _text("b")), CODE_BUTTON),
            132000,
            "got 2",
            id="too-many",
        ),
        pytest.param(_send("t_approved", _body(_text("a"))), 132000, "expected 0", id="unexpected"),
        pytest.param(
            _send("invoice", _body(_text("Ann"), _text("INV-1"))),
            131008,
            "document",
            id="no-media-header",
        ),
        pytest.param(
            _send(
                "invoice",
                {"type": "header", "parameters": [_text("x")]},
                _body(_text("a"), _text("b")),
            ),
            132012,
            "document",
            id="text-for-media-header",
        ),
        pytest.param(
            _send(
                "invoice",
                {"type": "header", "parameters": [{"type": "image", "image": {"id": "1"}}]},
                _body(_text("a"), _text("b")),
            ),
            132012,
            "document",
            id="image-for-document-header",
        ),
        pytest.param(
            _send(
                "invoice",
                {"type": "header", "parameters": [{"type": "document", "document": {}}]},
                _body(_text("a"), _text("b")),
            ),
            100,
            "id/link",
            id="media-header-without-id-or-link",
        ),
        pytest.param(
            _send(
                "order_confirmation",
                ORDER_HEADER,
                _body(_text("Jessica"), _text("860198")),
                ORDER_URL,
            ),
            132012,
            "parameter_name",
            id="positional-values-for-named",
        ),
        pytest.param(
            _send(
                "order_confirmation",
                ORDER_HEADER,
                _body(_text("Jessica", "first_name"), _text("860198", "order_id")),
                ORDER_URL,
            ),
            132012,
            "order_id",
            id="unknown-parameter-name",
        ),
        pytest.param(
            _send("promo", _body(_text("Ann", "first_name")), CODE_BUTTON),
            132012,
            "parameter_name",
            id="named-values-for-positional",
        ),
        pytest.param(
            _send("promo", _body({"type": "image", "image": {"id": "1"}}), CODE_BUTTON),
            132012,
            "text parameter",
            id="image-as-body-param",
        ),
        pytest.param(
            _send("promo", _body(_text("  ")), CODE_BUTTON), 132018, "non-empty", id="blank"
        ),
        pytest.param(
            _send("promo", _body(_text("x" * 1025)), CODE_BUTTON),
            132018,
            "1024",
            id="body-param-1025",
        ),
        pytest.param(
            _send("otp", _body(_text("1234567890123456")), OTP_BUTTON), 132018, "15", id="otp-16"
        ),
        pytest.param(
            _send("otp", _body(_text("https://x.io")), OTP_BUTTON), 132018, "URL", id="otp-url"
        ),
        pytest.param(
            _send("otp", _body(_text("12\U0001f600")), OTP_BUTTON), 132018, "emoji", id="otp-emoji"
        ),
        pytest.param(
            _send(
                "order_confirmation",
                {"type": "header", "parameters": [_text("x" * 61, "order_number")]},
                ORDER_BODY,
                ORDER_URL,
            ),
            132018,
            "60",
            id="header-param-61",
        ),
        pytest.param(
            _send("order_confirmation", ORDER_HEADER, ORDER_BODY),
            132000,
            "button 0",
            id="no-url-suffix",
        ),
        pytest.param(_send("promo", _body(_text("Ann"))), 132000, "copy_code", id="no-coupon"),
        pytest.param(
            _send("promo", _body(_text("Ann")), {**CODE_BUTTON, "sub_type": "url"}),
            132012,
            "copy_code",
            id="wrong-sub-type",
        ),
        pytest.param(
            _send("promo", _body(_text("Ann")), {**CODE_BUTTON, "index": 3}),
            100,
            "index 3",
            id="index",
        ),
        pytest.param(
            _send("promo", _body(_text("Ann")), CODE_BUTTON, {"type": "footer"}),
            100,
            "footer",
            id="footer",
        ),
        pytest.param(
            {"name": "promo", "language": {"code": "en_US"}, "components": {"type": "body"}},
            100,
            "array",
            id="components-not-array",
        ),
        pytest.param(
            _send("promo", _body(_text("Ann")), _body(_text("Ann")), CODE_BUTTON),
            100,
            "one body",
            id="two-bodies",
        ),
    ],
)
def test_a_mismatched_send_gets_metas_code(
    template: dict[str, Any], code: int, details: str
) -> None:
    error = check_template(template, TEMPLATES)

    assert error is not None
    assert error.code == code
    assert error.details is not None and details in error.details
