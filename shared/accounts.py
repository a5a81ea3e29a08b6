"""What Meta's account webhooks say about a sender, read once for every service: a business
portfolio's messaging limit, a number's throughput upgrade and quality rating, and a WABA's
restrictions (`business_capability_update`, `phone_number_quality_update`, `account_update`;
rules §6.1, §6.3, §9.2). Pure: an `AccountUpdateReported` in, an `AccountSignal` out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.events.account import AccountUpdateReported

TIERS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1000,
    "TIER_2K": 2000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,  # no limit
}
"""Meta's messaging-limit tiers (`TIER_NOT_SET` says nothing, so it is not here)."""
LIMIT_FIELDS = (
    "max_daily_conversations_per_business",  # v24+, the portfolio's limit
    "max_daily_conversation_per_phone",  # removed Feb 2026: parsed if present
    "current_limit",  # removed Feb 2026: parsed if present
)
THROUGHPUT_UPGRADE = "THROUGHPUT_UPGRADE"
HIGH_THROUGHPUT_MPS = 1000.0  # §6.1: the tier a THROUGHPUT_UPGRADE moves a number to
QUALITY_RATINGS = frozenset({"GREEN", "YELLOW", "RED", "UNKNOWN"})
LIFTED_BANS = frozenset({"REINSTATE"})


@dataclass(frozen=True)
class Limit:
    """A messaging limit Meta reported: `value` customers per 24 h, None for unlimited."""

    value: int | None


@dataclass(frozen=True)
class AccountSignal:
    """What one account update says; None where it says nothing."""

    waba_id: str
    display_phone_number: str | None
    reported_at: datetime | None
    limit: Limit | None = None
    throughput_mps: float | None = None  # the number's new tier
    quality_rating: str | None = None
    restrictions: tuple[str, ...] | None = None  # () when Meta lifted them all
    releases_holds: bool = False  # Meta says the sender may send again


def read(update: AccountUpdateReported) -> AccountSignal:
    details = update.details
    limit = messaging_limit(details)
    upgraded = update.event == THROUGHPUT_UPGRADE
    restrictions = _restrictions(details)
    lifted = restrictions == () or _ban_lifted(details)
    return AccountSignal(
        waba_id=update.waba_id,
        display_phone_number=_digits(update.display_phone_number),
        reported_at=update.reported_at,
        limit=limit,
        throughput_mps=HIGH_THROUGHPUT_MPS if upgraded else None,
        quality_rating=_quality(details),
        restrictions=restrictions,
        releases_holds=upgraded or lifted or limit is not None,
    )


def messaging_limit(details: dict[str, Any]) -> Limit | None:
    """The first limit field Meta filled, as a number of customers; unknown values say none."""
    for name in LIMIT_FIELDS:
        found = _limit(details.get(name))
        if found is not None:
            return found
    return None


def _limit(value: Any) -> Limit | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().upper()
        if text in TIERS:
            return Limit(TIERS[text])
        if text.lstrip("-").isdigit():
            return _limit(int(text))
        return None
    if isinstance(value, int):
        if value == -1:
            return Limit(None)  # the removed integer field's "unlimited"
        return Limit(value) if value > 0 else None
    return None


def _quality(details: dict[str, Any]) -> str | None:
    for name in ("quality_rating", "current_quality_rating", "quality_score"):
        value = details.get(name)
        if isinstance(value, str) and value.strip().upper() in QUALITY_RATINGS:
            return value.strip().upper()
    return None


def _restrictions(details: dict[str, Any]) -> tuple[str, ...] | None:
    """`restriction_info[].restriction_type` of an account update; () when Meta sent the list
    empty (the restrictions are over); None when it sent no list."""
    info = details.get("restriction_info")
    if not isinstance(info, list):
        return None
    kinds = (item.get("restriction_type") for item in info if isinstance(item, dict))
    return tuple(sorted({k for k in kinds if isinstance(k, str) and k}))


def _ban_lifted(details: dict[str, Any]) -> bool:
    ban = details.get("ban_info")
    states = ban.get("waba_ban_state") if isinstance(ban, dict) else None
    if isinstance(states, str):
        states = [states]
    return isinstance(states, list) and any(s in LIFTED_BANS for s in states)


def _digits(number: str | None) -> str | None:
    if number is None:
        return None
    digits = "".join(c for c in number if c.isdigit())
    return digits or None
