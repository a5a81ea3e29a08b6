"""BUTTONS of non-authentication templates: kinds, counts, grouping, labels, URLs, phone numbers
and copy codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.templates.builders import body, buttons, copy_code, phone, quick, template, url
from tests.services.templates.rules.cases import OK, errors_of

CASES: list[tuple[str, list[dict[str, Any]], set[tuple[str, str]]]] = [
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


@pytest.mark.parametrize(("case", "items", "expected"), CASES, ids=[c[0] for c in CASES])
def test_button_rules(
    case: str, items: list[dict[str, Any]], expected: set[tuple[str, str]]
) -> None:
    assert errors_of(template(body(), buttons(*items), category="MARKETING")) == expected
