"""Category guidance: promotional UTILITY is MARKETING; one-time codes only in AUTHENTICATION."""

from __future__ import annotations

import pytest

from services.templates.rules.validation import check
from tests.services.templates.builders import body, buttons, copy_code, quick, template

CASES = [
    # (category, body text, button label, expected errors, expected warnings)
    ("UTILITY", "Your order {{1}} has shipped.", None, set(), set()),
    (
        "UTILITY",
        "Your order {{1}} shipped. Enjoy 20% off your next order!",
        None,
        set(),
        {"PROMOTIONAL_UTILITY"},
    ),
    (
        "UTILITY",
        "Your order {{1}} shipped. Use coupon WELCOME today.",
        None,
        set(),
        {"PROMOTIONAL_UTILITY"},
    ),
    (
        "UTILITY",
        "Your order {{1}} shipped. Upgrade to premium now.",
        None,
        set(),
        {"PROMOTIONAL_UTILITY"},
    ),
    (
        "UTILITY",
        "Tu pedido {{1}} fue enviado. ¡Descuento especial para ti!",
        None,
        set(),
        {"PROMOTIONAL_UTILITY"},
    ),
    (
        "UTILITY",
        "Seu pedido {{1}} foi enviado. Aproveite a promoção de hoje.",
        None,
        set(),
        {"PROMOTIONAL_UTILITY"},
    ),
    ("UTILITY", "Your order {{1}} has shipped.", "See offers", set(), {"PROMOTIONAL_UTILITY"}),
    ("MARKETING", "Hi {{1}}, enjoy 20% off everything this week!", None, set(), set()),
    (
        "UTILITY",
        "Your verification code is {{1}} for login.",
        None,
        {"ONE_TIME_CODE_OUTSIDE_AUTHENTICATION"},
        set(),
    ),
    (
        "MARKETING",
        "Hi {{1}}, your one-time password is below ok.",
        None,
        {"ONE_TIME_CODE_OUTSIDE_AUTHENTICATION"},
        set(),
    ),
    (
        "UTILITY",
        "Seu código de verificação é {{1}} para entrar.",
        None,
        {"ONE_TIME_CODE_OUTSIDE_AUTHENTICATION"},
        set(),
    ),
    (
        "UTILITY",
        "Use the OTP {{1}} to sign in now.",
        None,
        {"ONE_TIME_CODE_OUTSIDE_AUTHENTICATION"},
        set(),
    ),
    ("UTILITY", "Your order code {{1}} is ready for pickup.", None, set(), set()),
]


@pytest.mark.parametrize(("category", "text", "label", "errors", "warnings"), CASES)
def test_category_guidance(
    category: str, text: str, label: str | None, errors: set[str], warnings: set[str]
) -> None:
    parts = [body(text, "A-42")]
    if label:
        parts.append(buttons(quick(label)))
    verdict = check(template(*parts, category=category))
    assert {e.code for e in verdict.errors} == errors
    assert {w.code for w in verdict.warnings} == warnings
    assert verdict.ok == (not errors)


def test_a_coupon_button_in_utility_warns() -> None:
    verdict = check(template(body(), buttons(copy_code())))
    assert verdict.ok
    assert [(w.field, w.code) for w in verdict.warnings] == [
        ("components[1].buttons[0]", "PROMOTIONAL_UTILITY")
    ]


def test_the_warning_says_it_will_be_approved_as_marketing() -> None:
    verdict = check(template(body("Your order {{1}} shipped, enjoy free shipping next time.", "1")))
    assert "MARKETING" in verdict.warnings[0].message
    assert verdict.warnings[0].field == "components[0].text"
