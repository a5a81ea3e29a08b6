"""Pure: which Cloud API endpoint a send goes to. MARKETING templates go to Meta's Marketing
Messages API (`/marketing_messages`, the same body plus `product_policy`) where the number's
portfolio is onboarded and configured; everything else keeps `/messages` (rules §9.3). The
template's category is the one policy decided with (its latest, from the template table)."""

from __future__ import annotations

from typing import Any

from services.dispatch.settings import MarketingRoute

MESSAGES = "messages"
MARKETING_MESSAGES = "marketing_messages"


def request(
    payload: dict[str, Any], template_category: str | None, route: MarketingRoute | None
) -> tuple[str, dict[str, Any]]:
    """The endpoint and body of a send: a MARKETING template with a route goes to
    `marketing_messages` with the route's fields; anything else to `messages` unchanged."""
    if route is None or (template_category or "").upper() != "MARKETING":
        return MESSAGES, payload
    if payload.get("type") != "template":
        return MESSAGES, payload
    body = {**payload, "product_policy": route.product_policy}
    if route.message_activity_sharing is not None:
        body["message_activity_sharing"] = route.message_activity_sharing
    return MARKETING_MESSAGES, body
