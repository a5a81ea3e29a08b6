"""Meta's own marketing rules, applied before sending so no message is wasted: no marketing
template reaches a US number (since April 2025, Meta answers 131049), and once Meta capped a
customer's marketing (131049) resends within 24 h fail too (rules §6.4, §9.3). Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers

from services.policy.caps import MarketingLog
from shared.events.intents import OutboundIntentSubmitted
from shared.meta_errors import SenderAction, meaning

US = "US"


def us_customer(phone: str | None, bsuid: str | None) -> bool:
    """A US customer: a phone of the US numbering plan (+1 with a US area code; Canada and the
    Caribbean share +1 and are not the US); a customer known by BSUID only, its `US.` prefix
    (Meta documents nothing for BSUIDs: the prefix is the country hint)."""
    if phone:
        digits = "".join(c for c in phone if c.isdigit())
        try:
            number = phonenumbers.parse(f"+{digits}")
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.region_code_for_number(number) == US
    return bool(bsuid) and str(bsuid).upper().startswith(f"{US}.")


def capped_at(intent: OutboundIntentSubmitted) -> datetime | None:
    """When Meta capped the customer's marketing, if the intent comes back for that reason:
    dispatch handed it back (its `occurred_at`) after Meta's 131049."""
    reason = intent.redecision.reason if intent.redecision else ""
    if reason.isdigit() and meaning(int(reason)).action is SenderAction.HOLD_CUSTOMER:
        return intent.occurred_at
    return None


def hold(log: MarketingLog | None, capped: datetime, wait: timedelta) -> MarketingLog:
    """The customer's marketing log with Meta's cap held until `capped + wait` (a hold already
    lasting longer stays)."""
    until = capped + wait
    kept = log or MarketingLog()
    if kept.meta_held_until is not None and kept.meta_held_until >= until:
        return kept
    return kept.model_copy(update={"meta_held_until": until})


def held_until(log: MarketingLog | None, now: datetime) -> datetime | None:
    """Until when Meta's cap holds the customer's marketing, or None when it does not now."""
    until = log.meta_held_until if log else None
    return until if until is not None and until > now else None
