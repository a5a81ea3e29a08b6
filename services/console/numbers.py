"""Pure reading of account and phone-number updates: each business number's messaging limit
(its tier), quality events and hold state as Meta last reported them, its usage against the
limit, and each account's latest events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

Row = Mapping[str, Any]

# Where Meta puts the messaging limit, newest name first (rules §9.2: the phone-level fields
# were announced for removal in Feb 2026, so they are read only when nothing newer is there).
LIMIT_FIELDS = ("max_daily_conversations_per_business", "max_daily_conversation_per_phone",
                "current_limit")  # fmt: skip
UNLIMITED = {"-1": "TIER_UNLIMITED"}
TIER_SIZES: dict[str, int | None] = {
    "TIER_50": 50, "TIER_250": 250, "TIER_1K": 1_000, "TIER_2K": 2_000, "TIER_10K": 10_000,
    "TIER_100K": 100_000, "TIER_UNLIMITED": None,
}  # fmt: skip
"""Unique customers outside a window per rolling 24 h of each tier (rules §6.3)."""

# account_update's ban states (`ban_info.waba_ban_state`): what each means for sending
BAN_STATES = {"DISABLE": "disabled by Meta", "SCHEDULE_FOR_DISABLE": "scheduled to be disabled"}
CLEARING_BAN_STATES = frozenset({"REINSTATE"})


@dataclass
class NumberFacts:
    """What account updates say about one display number (or a whole account)."""

    limit: str | None = None
    limit_at: datetime | None = None
    quality: str | None = None
    quality_at: datetime | None = None
    holds: dict[str, str] = field(default_factory=dict)  # what holds it -> in words
    events: list[tuple[str, str, datetime]] = field(default_factory=list)  # field, event, at

    @property
    def held(self) -> bool:
        return bool(self.holds)


def limit_of(details: Mapping[str, Any]) -> str | None:
    for name in LIMIT_FIELDS:
        value = details.get(name)
        if value is not None and value != "":
            return UNLIMITED.get(str(value), str(value))
    return None


def limit_size(limit: str | None) -> int | None:
    """The customers a limit allows (None: unlimited or not known)."""
    if limit is None:
        return None
    if limit.isdigit():
        return int(limit)
    return TIER_SIZES.get(limit)


def usage_words(reached: int, limit: str | None) -> str:
    """Customers reached outside a window in 24 h, against the limit when it is known."""
    size = limit_size(limit)
    if size is None or size == 0:
        return f"{reached}" + (" (unlimited)" if limit == "TIER_UNLIMITED" else "")
    return f"{reached} of {size:,} ({100 * reached / size:.0f}%)"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _holds(found: NumberFacts, row: Row, details: Mapping[str, Any], now: datetime) -> None:
    """An account_update that bans, reinstates or restricts the account (the latest wins)."""
    event = str(row.get("event") or "")
    if event == "DISABLED_UPDATE":
        ban = details.get("ban_info")
        state = str(ban.get("waba_ban_state", "")) if isinstance(ban, Mapping) else ""
        if state in BAN_STATES:
            found.holds["ban"] = BAN_STATES[state]
        elif state in CLEARING_BAN_STATES:
            found.holds.pop("ban", None)
    elif event == "ACCOUNT_RESTRICTION":
        found.holds.pop("restriction", None)
        listed = details.get("restriction_info")
        words = []
        for item in listed if isinstance(listed, list) else ():
            if not isinstance(item, Mapping):
                continue
            kind = str(item.get("restriction_type") or "a restriction")
            until = _instant(item.get("expiration"))
            if until is None or until > now:
                words.append(
                    kind + (f" until {until.isoformat(timespec='seconds')}" if until else "")
                )
        if words:
            found.holds["restriction"] = "restricted: " + ", ".join(words)


def facts(rows: Sequence[Row], now: datetime) -> dict[str, NumberFacts]:
    """Facts keyed by display number (updates about a number) or `waba:<id>` (about an
    account); the latest update of each kind wins."""
    out: dict[str, NumberFacts] = {}
    for row in sorted(rows, key=lambda r: r["occurred_at"]):
        details = row["details"] if isinstance(row["details"], Mapping) else {}
        number = row.get("display_phone_number") or details.get("display_phone_number")
        key = str(number) if number else f"waba:{row['waba_id']}"
        found = out.setdefault(key, NumberFacts())
        at = row["occurred_at"]
        limit = limit_of(details)
        if limit is not None:
            found.limit, found.limit_at = limit, at
        if row["field"] == "phone_number_quality_update" and row.get("event"):
            found.quality, found.quality_at = str(row["event"]), at
        if row["field"] == "account_update":
            _holds(found, row, details, now)
        found.events.append((row["field"], str(row.get("event") or ""), at))
    return out


def of_number(
    accounts: Mapping[str, NumberFacts], display: str | None, waba_id: str | None
) -> NumberFacts:
    """A number's facts: its own, with its account's limit where it has none (limits are
    per portfolio since Oct 2025, rules §6.3) and every hold on its account."""
    own = accounts.get(display or "") or NumberFacts()
    account = accounts.get(f"waba:{waba_id}") if waba_id else None
    if account is None:
        return own
    newer = account.limit_at and (own.limit_at is None or account.limit_at > own.limit_at)
    limit, limit_at = (account.limit, account.limit_at) if newer else (own.limit, own.limit_at)
    return replace(own, limit=limit, limit_at=limit_at, holds={**account.holds, **own.holds})
