"""A marketing text to a customer in California at night there, under quiet hours 21:00-08:00:
the case the quiet-hours rule and the handlers' deferral both decide."""

from __future__ import annotations

from datetime import UTC, datetime, time

from services.policy.consent import ConsentState, Opinion
from services.policy.quiet import QuietHours
from services.policy.rules import PolicyConfig
from shared.events.intents import OutboundIntentSubmitted, TextContent

NIGHT = QuietHours(time(21), time(8))
US = "16505551234"  # America/Los_Angeles (UTC-8 in March before DST)
CONFIG = PolicyConfig(quiet_hours=NIGHT)
NIGHT_IN_CA = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
OPTED_IN = ConsentState(business={"marketing": Opinion(opted_in=True, at=NIGHT_IN_CA, source="t")})


def marketing() -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id="promo-1",
        phone_number_id="1",
        to=f"+{US}",
        content=TextContent(body="Spring sale!"),
        category="marketing",
    )
