"""The Marketing Messages API's rules: MARKETING templates only, its own fields checked and
taken off the body, and what a portfolio not onboarded gets under each product policy."""

from __future__ import annotations

from typing import Any

import pytest

from services.sandbox.rules.marketing_api import Routed, route
from shared.events.common import MetaError

SEND: dict[str, Any] = {
    "messaging_product": "whatsapp",
    "to": "16505551234",
    "type": "template",
    "template": {"name": "flash", "language": {"code": "en_US"}},
}


@pytest.mark.parametrize(
    ("payload", "category", "onboarded", "expected"),
    [
        (SEND, "MARKETING", True, True),
        ({**SEND, "product_policy": "STRICT"}, "MARKETING", True, True),
        ({**SEND, "product_policy": "CLOUD_API_FALLBACK"}, "MARKETING", False, False),
        (SEND, "MARKETING", False, False),  # CLOUD_API_FALLBACK is the default
        ({**SEND, "product_policy": "STRICT"}, "MARKETING", False, 100),
        ({**SEND, "product_policy": "strict"}, "MARKETING", True, 100),
        ({**SEND, "message_activity_sharing": "yes"}, "MARKETING", True, 100),
        ({**SEND, "message_activity_sharing": False}, "MARKETING", True, True),
        (SEND, "UTILITY", True, 131055),
        (SEND, "AUTHENTICATION", True, 131055),
        ({**SEND, "type": "text", "text": {"body": "hi"}}, None, True, 100),
        (SEND, None, True, True),  # no such template: the Cloud API's checks answer (132001)
    ],
)
def test_marketing_messages_routing(
    payload: dict[str, Any], category: str | None, onboarded: bool, expected: bool | int
) -> None:
    routed = route(payload, category, onboarded)
    if isinstance(expected, bool):
        assert isinstance(routed, Routed) and routed.lite is expected
        assert "product_policy" not in routed.payload
        assert "message_activity_sharing" not in routed.payload
        assert routed.payload["template"] == SEND["template"]
    else:
        assert isinstance(routed, MetaError) and routed.code == expected
