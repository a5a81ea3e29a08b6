"""Marketing Messages API routing: MARKETING templates of a number whose portfolio (or the
number itself) is configured go to /marketing_messages with product_policy; all else keeps
/messages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from services.dispatch.routes import MARKETING_MESSAGES, MESSAGES, request
from services.dispatch.settings import DispatchSettings, MarketingRoute
from shared.events.intents import TemplateContent
from tests.services.dispatch.conftest import approved
from tests.services.dispatch.test_handlers import _parts

TEMPLATE = {"messaging_product": "whatsapp", "to": "1", "type": "template", "template": {}}
TEXT = {"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "hi"}}
STRICT = MarketingRoute(product_policy="STRICT", message_activity_sharing=False)


@pytest.mark.parametrize(
    ("payload", "category", "route", "endpoint", "added"),
    [
        (
            TEMPLATE,
            "MARKETING",
            MarketingRoute(),
            MARKETING_MESSAGES,
            {"product_policy": "CLOUD_API_FALLBACK"},
        ),
        (
            TEMPLATE,
            "marketing",
            STRICT,
            MARKETING_MESSAGES,
            {"product_policy": "STRICT", "message_activity_sharing": False},
        ),
        (TEMPLATE, "MARKETING", None, MESSAGES, {}),
        (TEMPLATE, "UTILITY", MarketingRoute(), MESSAGES, {}),
        (TEMPLATE, "AUTHENTICATION", MarketingRoute(), MESSAGES, {}),
        (TEMPLATE, None, MarketingRoute(), MESSAGES, {}),
        (TEXT, "MARKETING", MarketingRoute(), MESSAGES, {}),  # only templates ever go there
    ],
)
def test_the_endpoint_of_a_send(
    payload: dict[str, Any],
    category: str | None,
    route: MarketingRoute | None,
    endpoint: str,
    added: dict[str, Any],
) -> None:
    assert request(payload, category, route) == (endpoint, {**payload, **added})


def _settings(**fields: Any) -> DispatchSettings:
    return DispatchSettings.model_validate(fields)


PORTFOLIO = {"marketing_messages": {"p-1": {"product_policy": "STRICT"}}}


@pytest.mark.parametrize(
    ("settings", "number", "policy"),
    [
        (_settings(), "pn-1", None),  # nothing configured: /messages
        (_settings(**PORTFOLIO, numbers={"pn-1": {"portfolio_id": "p-1"}}), "pn-1", "STRICT"),
        (_settings(**PORTFOLIO, numbers={"pn-1": {"portfolio_id": "p-2"}}), "pn-1", None),
        (_settings(**PORTFOLIO, default_portfolio_id="p-1"), "pn-9", "STRICT"),
        (  # the number's own route beats its portfolio's
            _settings(
                **PORTFOLIO,
                numbers={"pn-1": {"portfolio_id": "p-1", "marketing_messages": {}}},
            ),
            "pn-1",
            "CLOUD_API_FALLBACK",
        ),
        (  # a number of an onboarded portfolio kept on /messages (a Business app number)
            _settings(
                **PORTFOLIO,
                numbers={"pn-1": {"portfolio_id": "p-1", "marketing_messages": {"enabled": False}}},
            ),
            "pn-1",
            None,
        ),
        (_settings(numbers={"pn-1": {"marketing_messages": {}}}), "pn-1", "CLOUD_API_FALLBACK"),
    ],
)
def test_where_a_numbers_marketing_goes(
    settings: DispatchSettings, number: str, policy: str | None
) -> None:
    route = settings.marketing_route(number)
    assert (route.product_policy if route else None) == policy


def test_an_unknown_product_policy_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="product_policy"):
        _settings(marketing_messages={"p-1": {"product_policy": "LAX"}})


async def test_the_dispatcher_sends_marketing_to_the_marketing_endpoint_when_configured() -> None:
    parts = _parts()
    configured = {"pn-1": MarketingRoute()}
    parts.dispatcher = replace(parts.dispatcher, marketing_route=configured.get)
    flash = TemplateContent(name="flash", language="en_US")
    decisions = [
        approved("m-1", content=flash).model_copy(update={"template_category": "MARKETING"}),
        approved("m-2", number="pn-2", content=flash).model_copy(
            update={"template_category": "MARKETING"}
        ),
        approved("u-1", content=flash).model_copy(update={"template_category": "UTILITY"}),
        approved("t-1"),
    ]
    for decision in decisions:
        await parts.decide_and_attempt(decision)
    assert parts.api.endpoints == [MARKETING_MESSAGES, MESSAGES, MESSAGES, MESSAGES]
    assert parts.api.sent[0][1]["product_policy"] == "CLOUD_API_FALLBACK"
    assert all("product_policy" not in body for _, body in parts.api.sent[1:])
    assert [s for d in decisions for s in parts.published.states(d.intent.intent_id)] == [
        "accepted"
    ] * 4
