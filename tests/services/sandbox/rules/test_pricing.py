"""Pricing and conversation objects of status webhooks (§3.3, §3.4, §4.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.sandbox.rules.pricing import billing, conversation, fep_open, reports_conversation

T0 = datetime(2025, 6, 8, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("category", "csw", "fep", "expected"),
    [
        pytest.param(
            None, True, False, (False, "free_customer_service", "service"), id="free-form"
        ),
        pytest.param(
            "UTILITY", True, False, (False, "free_customer_service", "utility"), id="utility-in"
        ),
        pytest.param("UTILITY", False, False, (True, "regular", "utility"), id="utility-out"),
        pytest.param("MARKETING", True, False, (True, "regular", "marketing"), id="marketing-in"),
        pytest.param("AUTHENTICATION", True, False, (True, "regular", "authentication"), id="auth"),
        pytest.param(
            "MARKETING", False, True, (False, "free_entry_point", "referral_conversion"), id="fep"
        ),
        pytest.param(
            None, True, True, (False, "free_entry_point", "referral_conversion"), id="fep-text"
        ),
    ],
)
def test_billing(
    category: str | None, csw: bool, fep: bool, expected: tuple[bool, str, str]
) -> None:
    assert billing(category, csw, fep) == {
        "billable": expected[0],
        "pricing_model": "PMP",
        "type": expected[1],
        "category": expected[2],
    }


@pytest.mark.parametrize(
    ("category", "csw", "fep", "expected"),
    [
        (None, True, False, {"billable": True, "type": "regular", "category": "service"}),
        ("UTILITY", True, False, {"billable": True, "type": "regular", "category": "utility"}),
        ("MARKETING", True, False, {"billable": True, "type": "regular", "category": "marketing"}),
        (  # free entry points stay free
            None, True, True,
            {"billable": False, "type": "free_entry_point", "category": "referral_conversion"},
        ),
    ],
)  # fmt: skip
def test_billing_with_service_charged_as_reported_for_2026_10(
    category: str | None, csw: bool, fep: bool, expected: dict[str, object]
) -> None:
    assert billing(category, csw, fep, service_charged=True) == {"pricing_model": "PMP", **expected}


def test_the_marketing_messages_api_bills_marketing_lite() -> None:
    assert billing("MARKETING", False, False, lite=True)["category"] == "marketing_lite"
    assert billing("UTILITY", False, False, lite=True)["category"] == "utility"


@pytest.mark.parametrize(
    ("version", "fep", "reported"),
    [
        ("v23.0", False, True),
        ("v19.0", False, True),
        ("v24.0", False, False),
        ("v25.0", False, False),
        ("v24.0", True, True),
        ("latest", False, False),
    ],
)
def test_conversation_is_reported_up_to_v23_and_in_fep_windows(
    version: str, fep: bool, reported: bool
) -> None:
    assert reports_conversation(version, fep) is reported


def test_conversation_object() -> None:
    assert conversation("c1", "utility", T0) == {
        "id": "c1",
        "expiration_timestamp": str(int(T0.timestamp())),
        "origin": {"type": "utility"},
    }
    assert conversation("c1", "service", None) == {"id": "c1", "origin": {"type": "service"}}


@pytest.mark.parametrize(
    ("referral", "started", "now", "expected"),
    [
        pytest.param(None, None, T0, (False, None), id="no-ad"),
        pytest.param(T0, None, T0 + H, (True, T0 + H), id="reply-within-24h-starts-it"),
        pytest.param(T0, None, T0 + 24 * H, (False, None), id="reply-after-24h"),
        pytest.param(T0, T0 + H, T0 + 70 * H, (True, T0 + H), id="open-72h-from-reply"),
        pytest.param(T0, T0 + H, T0 + 73 * H, (False, T0 + H), id="closed-after-72h"),
        pytest.param(
            T0 + 100 * H, T0 + H, T0 + 101 * H, (True, T0 + 101 * H), id="new-ad-new-window"
        ),
    ],
)
def test_free_entry_point_window(
    referral: datetime | None,
    started: datetime | None,
    now: datetime,
    expected: tuple[bool, datetime | None],
) -> None:
    assert fep_open(referral, started, now) == expected
