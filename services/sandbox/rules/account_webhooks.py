"""Account and capability webhooks in Meta's envelopes (§4.3, §9.2): a portfolio's messaging
limit (`business_capability_update`), a number's throughput upgrade or onboarding
(`phone_number_quality_update`), and a WABA's restrictions (`account_update`). Only the fields
Meta's 2026 pages keep: the ones announced for removal in Feb 2026 are never sent. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.sandbox.rules.webhook_envelopes import envelope

TIERS = ("TIER_50", "TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED")
NUMBER_EVENTS = ("THROUGHPUT_UPGRADE", "ONBOARDING")
UPGRADED_MPS = 1000.0  # §6.1


def capability_update(waba_id: str, tier: str, at: datetime) -> dict[str, Any]:
    value = {"max_daily_conversations_per_business": tier, "max_phone_numbers_per_business": 2}
    return envelope(waba_id, "business_capability_update", value, at)


def quality_update(
    waba_id: str, display_phone_number: str, event: str, tier: str, at: datetime
) -> dict[str, Any]:
    value = {
        "display_phone_number": display_phone_number,
        "event": event,
        "max_daily_conversations_per_business": tier,
    }
    return envelope(waba_id, "phone_number_quality_update", value, at)


def restriction_update(waba_id: str, restrictions: list[str], at: datetime) -> dict[str, Any]:
    """`ACCOUNT_RESTRICTION` with its `restriction_info`; an empty list: the restrictions ended."""
    info = [
        {"restriction_type": kind, "expiration": int(at.timestamp()) + 86_400}
        for kind in restrictions
    ]
    value = {"event": "ACCOUNT_RESTRICTION", "restriction_info": info}
    return envelope(waba_id, "account_update", value, at)
