"""The messaging limit: shares per partition, hour buckets, who counts, and the decision (the
handlers' counting is in test_handlers.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.policy import tiers
from services.policy.rules import Facts, PolicyConfig, decide
from services.policy.tiers import Reach
from services.policy.windows import WindowState
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.template_states import ParameterSpec, TemplateStateChanged
from tests.services.policy.opted_in import OPTED_IN

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(("limit", "partitions"), [(250, 12), (2000, 12), (10, 12), (7, 3)])
def test_shares_add_up_to_the_limit_exactly(limit: int, partitions: int) -> None:
    shares = [tiers.share(limit, partitions, p) for p in range(partitions)]
    assert sum(s for s in shares if s is not None) == limit
    assert max(shares) - min(shares) <= 1  # type: ignore[operator]
    assert tiers.share(None, partitions, 0) is None


def test_buckets_count_a_moving_day() -> None:
    buckets: dict[str, int] = {}
    buckets = tiers.count(buckets, NOW - 24 * H)  # bucket 10:00 yesterday: ends 11:00 today-1d
    buckets = tiers.count(buckets, NOW - 2 * H)
    buckets = tiers.count(buckets, NOW)
    buckets = tiers.count(buckets, NOW + timedelta(minutes=10))
    assert tiers.used(buckets, NOW) == 4  # yesterday's 10:00 bucket still overlaps the window
    assert tiers.used(buckets, NOW + H) == 3
    assert tiers.bucket_of(NOW) in buckets and buckets[tiers.bucket_of(NOW)] == 2
    assert len(tiers.count(buckets, NOW + 30 * H)) == 1  # old buckets dropped


@pytest.mark.parametrize(
    ("last", "recent"),
    [(None, False), (NOW - timedelta(minutes=59), True), (NOW - H, False), (NOW - 5 * H, False)],
)
def test_counted_recently(last: datetime | None, recent: bool) -> None:
    assert tiers.counted_recently(last, NOW) is recent


STATE = TemplateStateChanged(
    waba_id="w",
    name="order_shipped",
    language="en_US",
    category="UTILITY",
    status="APPROVED",
    parameters=ParameterSpec(body_count=0),
)
INTENT = OutboundIntentSubmitted(
    intent_id="i",
    phone_number_id="1",
    to="16505551234",
    content=TemplateContent(name="order_shipped", language="en_US"),
)
CONFIG = PolicyConfig(default_waba_id="w")


@pytest.mark.parametrize(
    ("reach", "window", "outcome"),
    [
        pytest.param(Reach(20, 19, False), None, "approved", id="room-left"),
        pytest.param(Reach(20, 20, False), None, "rejected", id="share-used-up"),
        pytest.param(Reach(20, 20, True), None, "approved", id="already-counted"),
        pytest.param(Reach(None, 10**6, False), None, "approved", id="unlimited"),
        pytest.param(
            Reach(20, 20, False),
            WindowState(last_customer_message_at=NOW - H),
            "approved",
            id="inside-a-window-is-not-business-initiated",
        ),
    ],
)
def test_the_limit_applies_to_templates_outside_a_window(
    reach: Reach, window: WindowState | None, outcome: str
) -> None:
    facts = Facts(window=window, consent=OPTED_IN, templates={STATE.key: STATE}.get, reach=reach)
    verdict = decide(INTENT, facts, NOW, CONFIG)
    assert verdict.outcome == outcome
    if outcome == "rejected":
        assert verdict.reasons == ["MESSAGING_LIMIT"]
    else:
        assert verdict.business_initiated is (window is None)
