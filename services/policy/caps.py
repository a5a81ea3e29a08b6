"""Marketing frequency caps per customer: pure counting over a rolling day and week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime

from shared.events.envelope import Model

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Caps:
    """Marketing messages allowed per customer; 0 switches that cap off."""

    per_day: int = 1
    per_week: int = 3


class MarketingLog(Model):
    """When marketing messages to this customer were approved (the last week only)."""

    sent_at: tuple[AwareDatetime, ...] = ()
    meta_held_until: AwareDatetime | None = None  # Meta capped their marketing (131049)


def blocked_until(log: MarketingLog | None, now: datetime, caps: Caps) -> datetime | None:
    """When the next marketing message becomes allowed, or None when it is allowed now."""
    times = sorted(t for t in (log.sent_at if log else ()) if t > now - WEEK)
    day = [t for t in times if t > now - DAY]
    waits: list[datetime] = []
    if caps.per_day and len(day) >= caps.per_day:
        waits.append(day[len(day) - caps.per_day] + DAY)
    if caps.per_week and len(times) >= caps.per_week:
        waits.append(times[len(times) - caps.per_week] + WEEK)
    return max(waits) if waits else None


def sent(log: MarketingLog | None, now: datetime) -> MarketingLog:
    recent = tuple(t for t in (log.sent_at if log else ()) if t > now - WEEK)
    return MarketingLog(
        sent_at=(*recent, now), meta_held_until=log.meta_held_until if log else None
    )
