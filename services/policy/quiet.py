"""Quiet hours in the customer's own time zone, derived from their number: pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_zones

UNKNOWN_ZONE = "Etc/Unknown"  # what the library answers for numbers it cannot place


@dataclass(frozen=True)
class QuietHours:
    """Local times between which business-initiated marketing waits (may span midnight)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """`21:00-08:00` -> QuietHours(21:00, 08:00)."""
        start, sep, end = text.partition("-")
        if not sep:
            raise ValueError(f"quiet hours {text!r} are not START-END, e.g. 21:00-08:00")
        return cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def zones_for(wa_id: str) -> tuple[str, ...]:
    """The time zones a WhatsApp number may be in (several for some countries)."""
    try:
        number = phonenumbers.parse(f"+{wa_id}")
    except phonenumbers.NumberParseException:
        return ()
    return tuple(z for z in number_zones.time_zones_for_number(number) if z != UNKNOWN_ZONE)


def quiet_until(zones: tuple[str, ...], now: datetime, quiet: QuietHours) -> datetime | None:
    """When quiet hours end in every zone the customer may be in; None when none is quiet.

    Conservative: a number spanning several zones waits until it is daytime in all of them.
    """
    ends: list[datetime] = []
    for name in zones:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        local = now.astimezone(zone)
        if quiet.contains(local.time()):
            end = local.replace(
                hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0
            )
            if end <= local:
                end += timedelta(days=1)
            ends.append(end)
    return max(ends) if ends else None
