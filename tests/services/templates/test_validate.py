"""Every creation rule with a passing and a failing case: each failure names its field."""

from __future__ import annotations

from typing import Any

import pytest

from services.templates.rules.validation import check
from tests.services.templates.builders import (
    body,
    buttons,
    copy_code,
    footer,
    header_text,
    media_header,
    named_body,
    phone,
    quick,
    template,
    url,
)

OK: set[tuple[str, str]] = set()
LONG_BODY = "Your order {{1}} is ready. " + "x" * 997  # 1024 characters, braces included
NAMED_OK = named_body(
    "Thank you, {{first_name}}! Your order {{order_number}} is confirmed.",
    first_name="Pablo",
    order_number="860198",
)

CASES: list[tuple[str, dict[str, Any], set[tuple[str, str]]]] = [
    # name
    ("valid name", template(), OK),
    ("name with digits", template(name="order_update_2"), OK),
    ("name missing", template(name=""), {("name", "NAME_REQUIRED")}),
    ("name upper case", template(name="Order_Update"), {("name", "INVALID_NAME")}),
    ("name with a dash", template(name="order-update"), {("name", "INVALID_NAME")}),
    ("name 512 chars", template(name="a" * 512), OK),
    ("name 513 chars", template(name="a" * 513), {("name", "TOO_LONG")}),
    # language, category, parameter format
    ("language pt_BR", template(language="pt_BR"), OK),
    ("language es", template(language="es"), OK),
    ("language en-US", template(language="en-US"), {("language", "INVALID_LANGUAGE")}),
    ("category lower case", template(category="utility"), OK),
    ("category unknown", template(category="PROMO"), {("category", "INVALID_CATEGORY")}),
    (
        "parameter format unknown",
        template(parameter_format="mixed"),
        {("parameter_format", "INVALID_PARAMETER_FORMAT")},
    ),
    ("time to live", template(message_send_ttl_seconds=3600), OK),
    (
        "time to live too short",
        template(message_send_ttl_seconds=10),
        {("message_send_ttl_seconds", "INVALID_TTL")},
    ),
    (
        "time to live not a number",
        template(message_send_ttl_seconds="1h"),
        {("message_send_ttl_seconds", "INVALID_TTL")},
    ),
    # components
    ("no components", template(components=[]), {("components", "COMPONENTS_REQUIRED")}),
    ("no body", template(footer()), {("components", "BODY_REQUIRED")}),
    (
        "two bodies",
        template(body(), body()),
        {("components[1].type", "DUPLICATE_COMPONENT")},
    ),
    (
        "unknown component",
        template(body(), {"type": "CAROUSEL"}),
        {("components[1].type", "INVALID_COMPONENT_TYPE")},
    ),
    ("component not an object", template(body(), "x"), {("components[1]", "INVALID_COMPONENT")}),
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
    # positional variables
    (
        "positional gap",
        template(body("Hello {{1}}, your order {{3}} has shipped.", "a", "b")),
        {("components[0].text", "VARIABLES_NOT_SEQUENTIAL")},
    ),
    (
        "positional from 2",
        template(body("Hello {{2}}, your order has shipped.", "a")),
        {("components[0].text", "VARIABLES_NOT_SEQUENTIAL")},
    ),
    (
        "positional repeated",
        template(body("Hi {{1}}, yes {{1}} is your name, ok.", "a")),
        {("components[0].text", "REPEATED_VARIABLE")},
    ),
    (
        "positional out of order",
        template(body("Hi {{2}}, your order {{1}} is ready.", "a", "b")),
        {("components[0].text", "VARIABLES_NOT_SEQUENTIAL")},
    ),
    (
        "named repeated",
        template(
            named_body("Hi {{name}}, yes {{name}} is right, ok.", name="a"),
            parameter_format="named",
        ),
        {("components[0].text", "REPEATED_VARIABLE")},
    ),
    (
        "special character in placeholder",
        template(body("Hello {{#1}}, your order has shipped.", "a")),
        {("components[0].text", "INVALID_VARIABLE")},
    ),
    (
        "unbalanced braces",
        template(body("Hello {{1}}, your order {{2 has shipped.", "a")),
        {("components[0].text", "UNBALANCED_BRACES")},
    ),
    (
        "named variable in positional template",
        template(body("Hello {{name}}, your order has shipped.", "a")),
        {("components[0].text", "PARAMETER_FORMAT_MISMATCH")},
    ),
    # named variables
    ("named", template(NAMED_OK, parameter_format="named"), OK),
    (
        "named upper case",
        template(
            named_body("Hello {{First}}, your order is here.", First="a"), parameter_format="named"
        ),
        {("components[0].text", "INVALID_VARIABLE")},
    ),
    (
        "positional in named template",
        template(body(), parameter_format="NAMED"),
        {("components[0].text", "PARAMETER_FORMAT_MISMATCH")},
    ),
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
    # placement and density
    (
        "variable at start",
        template(body("{{1}}, your order has shipped today.", "a")),
        {("components[0].text", "VARIABLE_AT_START")},
    ),
    (
        "variable at end",
        template(body("Your order has shipped, {{1}}", "a")),
        {("components[0].text", "VARIABLE_AT_END")},
    ),
    ("variable before final punctuation", template(body("Your order shipped, {{1}}.", "a")), OK),
    (
        "adjacent variables",
        template(body("Hello {{1}}{{2}}, your order shipped.", "a", "b")),
        {("components[0].text", "ADJACENT_VARIABLES")},
    ),
    (
        "variables separated by a space",
        template(body("Hello {{1}} {{2}}, your order shipped.", "a", "b")),
        {("components[0].text", "ADJACENT_VARIABLES")},
    ),
    (
        "too dense",
        template(body("Hi {{1}}, {{2}} at {{3}}, ok.", "a", "b", "c")),
        {("components[0].text", "TOO_MANY_VARIABLES")},
    ),
    (
        "dense but enough words",
        template(body("Hi {{1}}, your code {{2}} ends at {{3}}.", *"abc")),
        OK,
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


@pytest.mark.parametrize(("case", "tpl", "expected"), CASES, ids=[c[0] for c in CASES])
def test_creation_rules(case: str, tpl: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    verdict = check(tpl)
    assert {(e.field, e.code) for e in verdict.errors} == expected
    assert verdict.ok == (not expected)


BUTTON_CASES: list[tuple[str, list[dict[str, Any]], set[tuple[str, str]]]] = [
    ("one quick reply", [quick()], OK),
    ("ten quick replies", [quick(f"Option {i}") for i in range(10)], OK),
    (
        "eleven buttons",
        [quick(f"Option {i}") for i in range(11)],
        {("components[1].buttons", "TOO_MANY_BUTTONS")},
    ),
    ("no buttons", [], {("components[1].buttons", "BUTTONS_REQUIRED")}),
    ("quick replies grouped first", [quick("A"), quick("B"), url(), phone()], OK),
    ("quick replies grouped last", [url(), phone(), quick("A"), quick("B")], OK),
    (
        "quick replies split",
        [quick("A"), url(), quick("B")],
        {("components[1].buttons", "QUICK_REPLIES_NOT_GROUPED")},
    ),
    ("label 25 chars", [quick("x" * 25)], OK),
    ("label 26 chars", [quick("x" * 26)], {("components[1].buttons[0].text", "TOO_LONG")}),
    (
        "label missing",
        [{"type": "QUICK_REPLY"}],
        {("components[1].buttons[0].text", "LABEL_REQUIRED")},
    ),
    (
        "label with variable",
        [quick("Hi {{1}}")],
        {("components[1].buttons[0].text", "INVALID_LABEL")},
    ),
    ("static url", [url("https://example.com/help")], OK),
    ("url with trailing variable", [url()], OK),
    ("two urls", [url(), url("https://example.com/faq")], OK),
    (
        "three urls",
        [url(), url("https://example.com/a"), url("https://example.com/b")],
        {("components[1].buttons", "TOO_MANY_BUTTONS")},
    ),
    (
        "url variable in the middle",
        [url("https://example.com/{{1}}/track")],
        {("components[1].buttons[0].url", "VARIABLE_NOT_AT_END")},
    ),
    (
        "url two variables",
        [url("https://example.com/{{1}}/{{2}}")],
        {("components[1].buttons[0].url", "TOO_MANY_VARIABLES")},
    ),
    (
        "url named variable",
        [url("https://example.com/track/{{order}}")],
        {("components[1].buttons[0].url", "INVALID_VARIABLE")},
    ),
    (
        "url variable in domain",
        [url("https://{{1}}")],
        {("components[1].buttons[0].url", "VARIABLE_IN_DOMAIN")},
    ),
    (
        "url without example",
        [{"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}"}],
        {("components[1].buttons[0].example", "EXAMPLE_REQUIRED")},
    ),
    (
        "url not http",
        [url("ftp://example.com/x")],
        {("components[1].buttons[0].url", "INVALID_URL")},
    ),
    (
        "url too long",
        [url("https://example.com/" + "x" * 1990)],
        {("components[1].buttons[0].url", "TOO_LONG")},
    ),
    (
        "url missing",
        [{"type": "URL", "text": "Go"}],
        {("components[1].buttons[0].url", "URL_REQUIRED")},
    ),
    ("phone", [phone()], OK),
    (
        "two phones",
        [phone(), phone("+441234567890")],
        {("components[1].buttons", "TOO_MANY_BUTTONS")},
    ),
    (
        "phone 21 chars",
        [phone("+" + "1" * 20)],
        {("components[1].buttons[0].phone_number", "TOO_LONG")},
    ),
    (
        "phone letters",
        [phone("+1650CALLME")],
        {("components[1].buttons[0].phone_number", "INVALID_PHONE")},
    ),
    (
        "phone missing",
        [{"type": "PHONE_NUMBER", "text": "Call"}],
        {("components[1].buttons[0].phone_number", "PHONE_REQUIRED")},
    ),
    ("copy code", [copy_code()], OK),
    ("copy code 15 chars", [copy_code("X" * 15)], OK),
    (
        "copy code 16 chars",
        [copy_code("X" * 16)],
        {("components[1].buttons[0].example", "TOO_LONG")},
    ),
    (
        "copy code without example",
        [{"type": "COPY_CODE"}],
        {("components[1].buttons[0].example", "EXAMPLE_REQUIRED")},
    ),
    (
        "two copy codes",
        [copy_code(), copy_code("B")],
        {("components[1].buttons", "TOO_MANY_BUTTONS")},
    ),
    (
        "otp button outside authentication",
        [{"type": "OTP", "otp_type": "COPY_CODE"}],
        {("components[1].buttons[0].type", "OTP_BUTTON_NOT_ALLOWED")},
    ),
    (
        "unknown button",
        [{"type": "CALL_ME_MAYBE", "text": "x"}],
        {("components[1].buttons[0].type", "INVALID_BUTTON_TYPE")},
    ),
]


@pytest.mark.parametrize(
    ("case", "items", "expected"), BUTTON_CASES, ids=[c[0] for c in BUTTON_CASES]
)
def test_button_rules(
    case: str, items: list[dict[str, Any]], expected: set[tuple[str, str]]
) -> None:
    verdict = check(template(body(), buttons(*items), category="MARKETING"))
    assert {(e.field, e.code) for e in verdict.errors} == expected


def test_every_failure_has_a_message_naming_the_problem() -> None:
    verdict = check(template(body("{{1}} and {{3}}", "a", "b"), footer("x" * 70)))
    assert verdict.errors
    assert all(e.message and e.field.startswith("components[") for e in verdict.errors)
