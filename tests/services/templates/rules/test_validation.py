"""The request as a whole: name, language, category, parameter format, time to live and the
list of components; each failure names its field."""

from __future__ import annotations

from typing import Any

from services.templates.rules.validation import check
from tests.services.templates.builders import body, footer, template
from tests.services.templates.rules.cases import OK, Case, each, errors_of

CASES: list[Case] = [
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
]


@each(CASES)
def test_request_rules(case: str, tpl: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert errors_of(tpl) == expected


def test_every_failure_has_a_message_naming_the_problem() -> None:
    verdict = check(template(body("{{1}} and {{3}}", "a", "b"), footer("x" * 70)))
    assert verdict.errors
    assert all(e.message and e.field.startswith("components[") for e in verdict.errors)
