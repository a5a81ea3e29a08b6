"""Meta's pricing of a status as a charge: what it says, hostile values kept bounded, and when a
message counts as charged (delivered, `type` regular)."""

from __future__ import annotations

from typing import Any

import pytest

from services.dispatch.charges import OTHER, charge_of
from shared.events.intents import TemplateContent
from tests.services.dispatch.conftest import approved, reported

PAID = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
FREE = {
    "billable": False,
    "pricing_model": "PMP",
    "type": "free_customer_service",
    "category": "service",
}
FLASH = approved("i-1", content=TemplateContent(name="flash", language="en_US"))


@pytest.mark.parametrize(
    ("status", "pricing", "delivered", "charged", "labels"),
    [
        ("sent", PAID, False, False, ("pn-1", "flash", "utility", "regular")),
        ("delivered", PAID, True, True, ("pn-1", "flash", "utility", "regular")),
        ("read", PAID, True, True, ("pn-1", "flash", "utility", "regular")),
        ("delivered", FREE, True, False, ("pn-1", "flash", "service", "free_customer_service")),
        (  # only `billable` (older webhooks): it decides
            "delivered",
            {"billable": True, "category": "marketing"},
            True,
            True,
            ("pn-1", "flash", "marketing", OTHER),
        ),
        (
            "delivered",
            {"billable": False, "category": "marketing"},
            True,
            False,
            ("pn-1", "flash", "marketing", OTHER),
        ),
        (  # values Meta never documented: kept, but bounded labels
            "delivered",
            {"type": "regular", "category": "x" * 500},
            True,
            True,
            ("pn-1", "flash", OTHER, "regular"),
        ),
        (
            "delivered",
            {"type": 7, "category": ["marketing"], "billable": "yes"},
            True,
            False,
            ("pn-1", "flash", OTHER, OTHER),
        ),
        (
            "delivered",
            {**PAID, "category": "marketing_lite"},
            True,
            True,
            ("pn-1", "flash", "marketing_lite", "regular"),
        ),
    ],
)
def test_a_statuses_pricing_as_a_charge(
    status: str,
    pricing: dict[str, Any],
    delivered: bool,
    charged: bool,
    labels: tuple[str, ...],
) -> None:
    charge = charge_of(reported("i-1", "wamid.A", status, pricing=pricing), "i-1", FLASH)
    assert charge is not None
    assert (charge.delivered, charge.charged, charge.labels()) == (delivered, charged, labels)
    assert len(charge.category) <= 64


def test_no_pricing_no_charge_and_a_message_that_is_no_template() -> None:
    assert charge_of(reported("i-1", "wamid.A", "delivered"), "i-1", FLASH) is None
    assert charge_of(reported("i-1", "wamid.A", "delivered", pricing={}), "i-1", FLASH) is None
    text = charge_of(reported("i-2", "wamid.B", "delivered", pricing=FREE), "i-2", approved("i-2"))
    assert text is not None and text.template == "" and text.labels()[1] == "none"
    unknown = charge_of(reported("i-3", "wamid.C", "delivered", pricing=FREE), "i-3", None)
    assert unknown is not None and unknown.template == ""
