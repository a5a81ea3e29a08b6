"""A customer who opted in to every category, for tests about something other than consent
(every business-initiated template needs a recorded opt-in)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.policy.consent import ConsentState, Opinion

OPTED_IN = ConsentState(
    business={
        "all": Opinion(
            opted_in=True, at=datetime(2025, 1, 1, tzinfo=UTC), source="signup form", evidence="t"
        )
    }
)
