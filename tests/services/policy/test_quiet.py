"""Quiet hours: in the customer's zone (from their number), marketing is deferred (the handlers'
release of a deferred intent is in test_handlers.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.policy.quiet import QuietHours, quiet_until, zones_for
from services.policy.rules import Facts, decide
from services.policy.windows import WindowState
from tests.services.policy.night import CONFIG, NIGHT, NIGHT_IN_CA, OPTED_IN, US, marketing

UK = "447911123456"  # several zones, all on UK time


@pytest.mark.parametrize(
    ("text", "local", "quiet"),
    [
        ("21:00-08:00", time(23), True),
        ("21:00-08:00", time(7, 59), True),
        ("21:00-08:00", time(8), False),
        ("21:00-08:00", time(20, 59), False),
        ("12:00-14:00", time(13), True),
        ("12:00-14:00", time(14), False),
    ],
)
def test_quiet_hours_may_span_midnight(text: str, local: time, quiet: bool) -> None:
    assert QuietHours.parse(text).contains(local) is quiet


def test_a_bad_quiet_hours_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="START-END"):
        QuietHours.parse("21:00")


@pytest.mark.parametrize(
    ("wa_id", "now", "until"),
    [
        pytest.param(
            US,
            datetime(2026, 3, 2, 6, 0, tzinfo=UTC),  # 22:00 in California
            datetime(2026, 3, 2, 16, 0, tzinfo=UTC),
            id="us-night",
        ),
        pytest.param(US, datetime(2026, 3, 2, 18, 0, tzinfo=UTC), None, id="us-day"),
        pytest.param(
            UK,
            datetime(2026, 3, 2, 22, 30, tzinfo=UTC),
            datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
            id="uk-night-every-zone",
        ),
        pytest.param("999", datetime(2026, 3, 2, 3, 0, tzinfo=UTC), None, id="unplaceable"),
    ],
)
def test_quiet_until(wa_id: str, now: datetime, until: datetime | None) -> None:
    assert quiet_until(zones_for(wa_id), now, NIGHT) == until


def test_marketing_at_night_is_deferred_not_rejected_and_service_is_not() -> None:
    window = WindowState(last_customer_message_at=NIGHT_IN_CA - timedelta(hours=1))
    verdict = decide(marketing(), Facts(window=window, consent=OPTED_IN), NIGHT_IN_CA, CONFIG)
    assert verdict.outcome == "deferred" and verdict.reasons == ["QUIET_HOURS"]
    assert verdict.valid_until == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    service = marketing().model_copy(update={"category": "service"})
    assert decide(service, Facts(window=window), NIGHT_IN_CA, CONFIG).outcome == "approved"
