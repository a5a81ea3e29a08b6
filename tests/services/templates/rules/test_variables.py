"""Variables in text: positional or named, numbering, repeats, placement and density."""

from __future__ import annotations

from typing import Any

from tests.services.templates.builders import NAMED_OK, body, named_body, template
from tests.services.templates.rules.cases import OK, Case, each, errors_of

CASES: list[Case] = [
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
]


@each(CASES)
def test_variable_rules(case: str, tpl: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert errors_of(tpl) == expected
