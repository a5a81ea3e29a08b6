"""The preview: a template filled with sample parameters, and the send-time components."""

from __future__ import annotations

from typing import Any

import pytest

from services.templates.rules.render import render
from tests.services.templates.builders import (
    NAMED,
    auth,
    body,
    buttons,
    copy_code,
    footer,
    header_text,
    media_header,
    quick,
    template,
    url,
)


def _render(tpl: dict[str, Any], sample: dict[str, Any]) -> Any:
    return render(
        tpl["category"], tpl.get("parameter_format", "positional"), tpl["components"], sample
    )


def test_render_positional_with_header_footer_and_url() -> None:
    tpl = template(header_text(), body(), footer(), buttons(quick(), url()))
    sample = {"header": ["A-42"], "body": ["Ana", "A-42"], "buttons": {"1": "A-42"}}
    rendered, issues = _render(tpl, sample)
    assert issues == []
    assert rendered.header == "Order A-42"
    assert rendered.body == "Hello Ana, your order A-42 has shipped."
    assert rendered.footer == "Lucky Shrub"
    assert rendered.buttons[1] == {
        "type": "URL",
        "text": "Track order",
        "url": "https://example.com/track/A-42",
    }
    assert list(rendered.components) == [
        {"type": "header", "parameters": [{"type": "text", "text": "A-42"}]},
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-42"}],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": 1,
            "parameters": [{"type": "text", "text": "A-42"}],
        },
    ]


def test_render_named_with_media_header() -> None:
    tpl = template(media_header("DOCUMENT"), NAMED, parameter_format="named")
    sample = {
        "header": {"link": "https://x.test/a.pdf"},
        "body": {"order_number": "7", "first_name": "Jo"},
    }
    rendered, issues = _render(tpl, sample)
    assert issues == []
    assert rendered.body == "Hi Jo, order 7 is ready."
    assert rendered.components[0] == {
        "type": "header",
        "parameters": [{"type": "document", "document": {"link": "https://x.test/a.pdf"}}],
    }
    assert rendered.components[1]["parameters"][0] == {
        "type": "text",
        "text": "Jo",
        "parameter_name": "first_name",
    }


def test_render_authentication() -> None:
    rendered, issues = _render(auth(), {"body": ["123456"]})
    assert issues == []
    assert (
        rendered.body
        == "*123456* is your verification code. For your security, do not share this code."
    )
    assert rendered.footer == "This code expires in 10 minutes."
    assert rendered.components[1]["parameters"] == [{"type": "text", "text": "123456"}]


BAD: list[tuple[str, dict[str, Any], dict[str, Any], set[tuple[str, str]]]] = [
    (
        "body value missing",
        template(body()),
        {"body": ["Ana"]},
        {("parameters.body[1]", "PARAMETER_MISSING")},
    ),
    (
        "body value extra",
        template(body()),
        {"body": ["a", "b", "c"]},
        {("parameters.body", "PARAMETER_UNKNOWN")},
    ),
    (
        "header value too long",
        template(header_text(), body()),
        {"header": ["x" * 61], "body": ["a", "b"]},
        {("parameters.header[0]", "TOO_LONG")},
    ),
    (
        "media header without link",
        template(media_header("IMAGE"), body()),
        {"body": ["a", "b"]},
        {("parameters.header", "PARAMETER_MISSING")},
    ),
    (
        "url button without value",
        template(body(), buttons(url())),
        {"body": ["a", "b"]},
        {("parameters.buttons.0", "PARAMETER_MISSING")},
    ),
    (
        "coupon too long",
        template(body(), buttons(copy_code())),
        {"body": ["a", "b"], "buttons": {"0": "X" * 16}},
        {("parameters.buttons.0", "TOO_LONG")},
    ),
    (
        "named value missing",
        template(NAMED, parameter_format="named"),
        {"body": {"first_name": "Jo"}},
        {("parameters.body.order_number", "PARAMETER_MISSING")},
    ),
    ("otp missing", auth(), {}, {("parameters.body[0]", "PARAMETER_MISSING")}),
    ("otp too long", auth(), {"body": ["1" * 16]}, {("parameters.body[0]", "INVALID_CODE")}),
]


@pytest.mark.parametrize(("case", "tpl", "sample", "expected"), BAD, ids=[b[0] for b in BAD])
def test_render_refuses_bad_parameters(
    case: str, tpl: dict[str, Any], sample: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    rendered, issues = _render(tpl, sample)
    assert rendered is None
    assert {(i.field, i.code) for i in issues} == expected
