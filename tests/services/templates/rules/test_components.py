"""HEADER, BODY and FOOTER components and the sample values Meta wants for every variable."""

from __future__ import annotations

from typing import Any

from tests.services.templates.builders import (
    NAMED_OK,
    body,
    footer,
    header_text,
    media_header,
    named_body,
    template,
)
from tests.services.templates.rules.cases import OK, Case, each, errors_of

LONG_BODY = "Your order {{1}} is ready. " + "x" * 997  # 1024 characters, braces included

CASES: list[Case] = [
    # body
    ("body without variables", template(body("Your order has shipped.")), OK),
    ("body text missing", template({"type": "BODY"}), {("components[0].text", "TEXT_REQUIRED")}),
    ("body 1024 chars", template(body("Hi " + "x" * 1021)), OK),
    ("body 1025 chars", template(body("Hi " + "x" * 1022)), {("components[0].text", "TOO_LONG")}),
    ("body too long with variable", template(body(LONG_BODY, "1")), OK),
    (
        "body too long with variable over",
        template(body(LONG_BODY + "y", "1")),
        {("components[0].text", "TOO_LONG")},
    ),
    # named examples
    (
        "named example missing",
        template(
            named_body("Hello {{first_name}}, order {{order}} is here.", first_name="a"),
            parameter_format="named",
        ),
        {("components[0].example.body_text_named_params", "EXAMPLE_REQUIRED")},
    ),
    (
        "named example for an absent variable",
        template(
            named_body("Hello {{first_name}}, your order is here.", first_name="a", other="b"),
            parameter_format="named",
        ),
        {("components[0].example.body_text_named_params", "UNKNOWN_EXAMPLE")},
    ),
    # positional examples
    (
        "positional examples missing",
        template({"type": "BODY", "text": "Hello {{1}}, your order has shipped."}),
        {("components[0].example.body_text", "EXAMPLE_REQUIRED")},
    ),
    (
        "positional examples too few",
        template(body("Hello {{1}}, your order {{2}} has shipped.", "a")),
        {("components[0].example.body_text", "EXAMPLE_REQUIRED")},
    ),
    (
        "positional example empty",
        template(body("Hello {{1}}, your order {{2}} has shipped.", "a", " ")),
        {("components[0].example.body_text", "EXAMPLE_REQUIRED")},
    ),
    # header
    ("text header", template(header_text(), body()), OK),
    ("text header without variable", template(header_text("Your order", None), body()), OK),
    (
        "text header 61 chars",
        template(header_text("x" * 61, None), body()),
        {("components[0].text", "TOO_LONG")},
    ),
    (
        "text header two variables",
        template(header_text("Order {{1}} {{2}}", "a"), body()),
        {("components[0].text", "TOO_MANY_VARIABLES")},
    ),
    (
        "text header variable 2",
        template(header_text("Order {{2}}", "a"), body()),
        {("components[0].text", "VARIABLES_NOT_SEQUENTIAL")},
    ),
    (
        "text header without example",
        template(header_text("Order {{1}}", None), body()),
        {("components[0].example.header_text", "EXAMPLE_REQUIRED")},
    ),
    (
        "text header markdown",
        template(header_text("*Order* shipped", None), body()),
        {("components[0].text", "FORMATTING_NOT_ALLOWED")},
    ),
    (
        "text header new line",
        template(header_text("Order\nshipped", None), body()),
        {("components[0].text", "FORMATTING_NOT_ALLOWED")},
    ),
    (
        "named text header",
        template(
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Order {{order_number}}",
                "example": {
                    "header_text_named_params": [{"param_name": "order_number", "example": "1"}]
                },
            },
            NAMED_OK,
            parameter_format="named",
        ),
        OK,
    ),
    ("image header", template(media_header("IMAGE"), body()), OK),
    ("video header", template(media_header("VIDEO"), body()), OK),
    ("document header", template(media_header("DOCUMENT"), body()), OK),
    (
        "media header without sample",
        template(media_header("DOCUMENT", None), body()),
        {("components[0].example.header_handle", "EXAMPLE_REQUIRED")},
    ),
    ("location header utility", template(media_header("LOCATION", None), body()), OK),
    (
        "location header in authentication is covered by auth rules; gif refused",
        template(media_header("GIF"), body()),
        {("components[0].format", "INVALID_HEADER_FORMAT")},
    ),
    (
        "header format missing",
        template({"type": "HEADER"}, body()),
        {("components[0].format", "INVALID_HEADER_FORMAT")},
    ),
    # footer
    ("footer", template(body(), footer()), OK),
    ("footer 60 chars", template(body(), footer("x" * 60)), OK),
    ("footer 61 chars", template(body(), footer("x" * 61)), {("components[1].text", "TOO_LONG")}),
    (
        "footer with variable",
        template(body(), footer("Shop {{1}} now")),
        {("components[1].text", "VARIABLES_NOT_ALLOWED")},
    ),
    ("footer empty", template(body(), footer(" ")), {("components[1].text", "TEXT_REQUIRED")}),
]


@each(CASES)
def test_component_rules(case: str, tpl: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert errors_of(tpl) == expected
