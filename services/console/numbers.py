"""Pure reading of account and phone-number updates: each business number's messaging
limit and quality as Meta last reported them, and each account's latest events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Row = Mapping[str, Any]

# Where Meta puts the messaging limit, newest name first (rules §9.2: the phone-level fields
# were announced for removal in Feb 2026, so they are read only when nothing newer is there).
LIMIT_FIELDS = ("max_daily_conversations_per_business", "max_daily_conversation_per_phone",
                "current_limit")  # fmt: skip
UNLIMITED = {"-1": "TIER_UNLIMITED"}


@dataclass
class NumberFacts:
    """What account updates say about one display number (or a whole account)."""

    limit: str | None = None
    limit_at: datetime | None = None
    quality: str | None = None
    quality_at: datetime | None = None
    events: list[tuple[str, str, datetime]] = field(default_factory=list)  # field, event, at


def limit_of(details: Mapping[str, Any]) -> str | None:
    for name in LIMIT_FIELDS:
        value = details.get(name)
        if value is not None and value != "":
            return UNLIMITED.get(str(value), str(value))
    return None


def facts(rows: Sequence[Row]) -> dict[str, NumberFacts]:
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
        found.events.append((row["field"], str(row.get("event") or ""), at))
    return out
