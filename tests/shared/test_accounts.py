"""Meta's account webhooks read as signals: every limit field and value, the throughput
upgrade, quality ratings, restrictions and what releases a held sender."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.accounts import HIGH_THROUGHPUT_MPS, Limit, messaging_limit, read
from shared.events.account import AccountUpdateReported

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _update(field: str, details: dict[str, Any], event: str | None = None) -> AccountUpdateReported:
    return AccountUpdateReported(
        producer="ingest",
        field=field,
        waba_id="waba-1",
        event=event,
        display_phone_number=details.get("display_phone_number"),
        reported_at=AT,
        details=details,
    )


@pytest.mark.parametrize(
    ("details", "limit"),
    [
        ({"max_daily_conversations_per_business": "TIER_250"}, Limit(250)),
        ({"max_daily_conversations_per_business": "TIER_2K"}, Limit(2000)),
        ({"max_daily_conversations_per_business": "TIER_10K"}, Limit(10_000)),
        ({"max_daily_conversations_per_business": "TIER_100K"}, Limit(100_000)),
        ({"max_daily_conversations_per_business": "TIER_UNLIMITED"}, Limit(None)),
        ({"max_daily_conversations_per_business": "TIER_50"}, Limit(50)),
        ({"max_daily_conversations_per_business": "tier_1k"}, Limit(1000)),
        ({"max_daily_conversations_per_business": "TIER_NOT_SET"}, None),
        ({"max_daily_conversations_per_business": 2000}, Limit(2000)),  # "typed Integer"
        ({"max_daily_conversations_per_business": "10000"}, Limit(10_000)),
        ({"max_daily_conversation_per_phone": 1000}, Limit(1000)),  # removed in Feb 2026
        ({"max_daily_conversation_per_phone": -1}, Limit(None)),
        ({"current_limit": "TIER_100K"}, Limit(100_000)),
        (
            {"max_daily_conversations_per_business": "TIER_10K", "current_limit": "TIER_2K"},
            Limit(10_000),  # the current field wins over the removed one
        ),
        (
            {"max_daily_conversations_per_business": "TIER_NOT_SET", "current_limit": "TIER_2K"},
            Limit(2000),
        ),
        ({"max_daily_conversations_per_business": 0}, None),
        ({"max_daily_conversations_per_business": -5}, None),
        ({"max_daily_conversations_per_business": True}, None),
        ({"max_daily_conversations_per_business": None}, None),
        ({"max_daily_conversations_per_business": ["TIER_2K"]}, None),
        ({"max_daily_conversations_per_business": "TIER_ENORMOUS"}, None),
        ({"max_phone_numbers_per_business": 2}, None),
        ({}, None),
    ],
)
def test_every_limit_field_and_value(details: dict[str, Any], limit: Limit | None) -> None:
    assert messaging_limit(details) == limit


def test_a_throughput_upgrade_raises_the_number_to_metas_high_tier() -> None:
    signal = read(
        _update(
            "phone_number_quality_update",
            {
                "display_phone_number": "+1 555 000 1111",
                "event": "THROUGHPUT_UPGRADE",
                "max_daily_conversations_per_business": "TIER_UNLIMITED",
            },
            event="THROUGHPUT_UPGRADE",
        )
    )
    assert signal.throughput_mps == HIGH_THROUGHPUT_MPS == 1000.0
    assert signal.display_phone_number == "15550001111" and signal.limit == Limit(None)
    assert signal.releases_holds and signal.reported_at == AT


def test_onboarding_is_no_upgrade() -> None:
    signal = read(_update("phone_number_quality_update", {"event": "ONBOARDING"}, "ONBOARDING"))
    assert signal.throughput_mps is None and signal.limit is None
    assert not signal.releases_holds


@pytest.mark.parametrize(
    ("details", "quality"),
    [
        ({"quality_rating": "GREEN"}, "GREEN"),
        ({"current_quality_rating": "yellow"}, "YELLOW"),
        ({"quality_score": "RED"}, "RED"),
        ({"quality_rating": "PURPLE"}, None),
        ({"quality_rating": 3}, None),
        ({}, None),
    ],
)
def test_a_quality_rating_is_read_where_meta_gives_one(
    details: dict[str, Any], quality: str | None
) -> None:
    assert read(_update("phone_number_quality_update", details)).quality_rating == quality


@pytest.mark.parametrize(
    ("details", "restrictions", "releases"),
    [
        (
            {"restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                                   "expiration": 1764000000}]},
            ("RESTRICTED_BIZ_INITIATED_MESSAGING",),
            False,
        ),
        ({"restriction_info": []}, (), True),  # the restrictions are over
        ({"restriction_info": [{"restriction_type": 7}, "x"]}, (), True),
        ({"ban_info": {"waba_ban_state": ["REINSTATE"]}}, None, True),
        ({"ban_info": {"waba_ban_state": "REINSTATE"}}, None, True),
        ({"ban_info": {"waba_ban_state": ["DISABLE"]}}, None, False),
        ({"ban_info": {"waba_ban_state": ["SCHEDULE_FOR_DISABLE"]}}, None, False),
        ({"violation_info": {"violation_type": "SCAM"}}, None, False),
    ],
)  # fmt: skip
def test_restrictions_and_what_lifts_them(
    details: dict[str, Any], restrictions: tuple[str, ...] | None, releases: bool
) -> None:
    signal = read(_update("account_update", details, "ACCOUNT_RESTRICTION"))
    assert (signal.restrictions, signal.releases_holds) == (restrictions, releases)


def test_a_capability_update_releases_holds_and_names_the_limit() -> None:
    signal = read(
        _update(
            "business_capability_update",
            {"max_daily_conversations_per_business": "TIER_2K",
             "max_phone_numbers_per_business": 2},
        )
    )  # fmt: skip
    assert signal.limit == Limit(2000) and signal.releases_holds
    assert signal.waba_id == "waba-1" and signal.display_phone_number is None
