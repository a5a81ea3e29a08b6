"""How long an approval holds (`valid_until`): pure. Dispatch sends an approved intent only
before it; after it, dispatch hands the intent back and policy decides again with the state of
then. An approval holds until the earliest of:

- the intent's own `not_after`;
- for free-form messages, the window's end less the safety margin;
- for templates, the approval lifetime (a checked template status, consent and caps are trusted
  that long and no longer);
- for marketing, the next start of quiet hours in the customer's time zones, and the moment
  the approval stops counting against the customer's marketing cap (a send later than that
  could bunch with a message approved after it);
- for a business-initiated template counted toward the messaging limit, the moment that count
  stops covering the customer (`tiers`: a customer is counted again an hour after).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.policy.caps import DAY, WEEK, Caps
from services.policy.quiet import QuietHours
from services.policy.tiers import BUCKET
from shared.events.intents import OutboundIntentSubmitted
from shared.meta_errors import SenderAction, meaning

DEFAULT_LIFETIME = timedelta(minutes=15)


def earliest(*edges: datetime | None) -> datetime | None:
    """The first of the edges given; None when none is."""
    known = [edge for edge in edges if edge is not None]
    return min(known) if known else None


def next_quiet_start(
    zones: tuple[str, ...], now: datetime, quiet: QuietHours | None
) -> datetime | None:
    """When quiet hours next begin in any of the customer's zones (the first of them)."""
    if quiet is None:
        return None
    known = [zone for zone in map(_zone, zones) if zone is not None]
    starts = [_next_start(now, zone, quiet) for zone in known]
    return min(starts) if starts else None


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _next_start(now: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    today = now.astimezone(zone).date()
    start = datetime.combine(today, quiet.start, tzinfo=zone)
    return start if start > now else datetime.combine(today + DAY, quiet.start, tzinfo=zone)


def cap_edge(now: datetime, caps: Caps) -> datetime | None:
    """When a marketing approval counted now stops counting in the shortest cap in force."""
    if caps.per_day:
        return now + DAY
    if caps.per_week:
        return now + WEEK
    return None


def reach_edge(now: datetime, counted_at: datetime | None) -> datetime:
    """When the messaging limit's count of this customer (now, or `counted_at` when they were
    counted within the hour) stops covering a send."""
    return (counted_at or now) + BUCKET


def window_refused(intent: OutboundIntentSubmitted) -> bool:
    """The intent is handed back because Meta said the window is closed (131047): free-form
    may not go again, whatever the window policy saw."""
    reason = intent.redecision.reason if intent.redecision else ""
    return reason.isdigit() and meaning(int(reason)).action is SenderAction.REENGAGE
