"""Deterministic template review: approved, re-categorised, or rejected with Meta's reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.sandbox.rules.review import Review, review
from services.sandbox.rules.template_model import Template

T0 = datetime(2025, 6, 8, tzinfo=UTC)


def _template(
    body: str, category: str = "UTILITY", fmt: str = "positional", *extra: dict[str, Any]
) -> Template:
    components = ({"type": "BODY", "text": body}, *extra)
    return Template("1", "t", "en_US", category, components, T0, parameter_format=fmt)


@pytest.mark.parametrize(
    ("template", "outcome"),
    [
        pytest.param(
            _template("Your order {{1}} has shipped."), Review("APPROVED", "UTILITY"), id="utility"
        ),
        pytest.param(
            _template("Your order {{1}} has shipped. Enjoy 20% off with a coupon!"),
            Review("APPROVED", "MARKETING"),
            id="promo-in-utility-becomes-marketing",
        ),
        pytest.param(
            _template(
                "Order {{1}} shipped.",
                "UTILITY",
                "positional",
                {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Shop now"}]},
            ),
            Review("APPROVED", "MARKETING"),
            id="promo-in-a-button",
        ),
        pytest.param(
            _template("Big sale on {{1}} today, friend.", "MARKETING"),
            Review("APPROVED", "MARKETING"),
            id="marketing-stays",
        ),
        pytest.param(
            _template("Hi {{first_name}}, order {{order_id}} is ready.", fmt="named"),
            Review("APPROVED", "UTILITY"),
            id="named",
        ),
        pytest.param(
            _template("*{{1}}* is your code.", "AUTHENTICATION"),
            Review("APPROVED", "AUTHENTICATION"),
            id="auth",
        ),
    ],
)
def test_approvals(template: Template, outcome: Review) -> None:
    assert review(template) == outcome


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        pytest.param(
            _template("Your order {{#1}} has shipped."), "INVALID_FORMAT", id="special-char"
        ),
        pytest.param(_template("Your order {{$}} has shipped."), "INVALID_FORMAT", id="dollar"),
        pytest.param(_template("Order {{1}} on {{3}} shipped."), "INVALID_FORMAT", id="gap"),
        pytest.param(
            _template("Order {{2}} on {{1}} shipped."), "INVALID_FORMAT", id="out-of-order"
        ),
        pytest.param(_template("Order {{1}}{{2}} shipped."), "INVALID_FORMAT", id="adjacent"),
        pytest.param(_template("Order {{1} shipped."), "INVALID_FORMAT", id="unbalanced"),
        pytest.param(
            _template("Order {{First}} shipped ok.", fmt="named"), "INVALID_FORMAT", id="named-case"
        ),
        pytest.param(
            _template("Order {{a}} and {{a}} ok.", fmt="named"), "INVALID_FORMAT", id="named-twice"
        ),
        pytest.param(
            _template("Order {{a}} shipped ok."), "INVALID_FORMAT", id="named-in-positional"
        ),
        pytest.param(
            _template("You stupid customer, order {{1}} is late."), "ABUSIVE_CONTENT", id="abuse"
        ),
        pytest.param(
            _template("Your verification code is {{1}} today."),
            "INCORRECT_CATEGORY",
            id="otp-in-utility",
        ),
    ],
)
def test_rejections(template: Template, reason: str) -> None:
    outcome = review(template)

    assert outcome.status == "REJECTED"
    assert outcome.reason == reason
    assert outcome.category == template.category


def test_review_is_deterministic() -> None:
    template = _template("Your order {{1}} has a discount.")
    assert {review(template) for _ in range(5)} == {Review("APPROVED", "MARKETING")}
