"""How long an approval holds: each edge alone (pure), then `decide` taking the earliest."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.policy import approval
from services.policy.caps import Caps
from services.policy.consent import ConsentState
from services.policy.quiet import QuietHours
from services.policy.rules import Facts, PolicyConfig, decide
from services.policy.settings import PolicySettings
from services.policy.tiers import Reach
from services.policy.windows import WindowState
from shared.events.intents import (
    OutboundIntentSubmitted,
    Redecision,
    TemplateContent,
    TextContent,
)
from shared.events.template_states import ParameterSpec, TemplateStateChanged, state_key
from tests.services.policy.opted_in import OPTED_IN

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 04:00 in California, 21:00 in Tokyo
NIGHT = QuietHours(time(21), time(8))
DAY_ONLY = QuietHours(time(9), time(17))
LA, TOKYO = ("America/Los_Angeles",), ("Asia/Tokyo",)
M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("zones", "quiet", "expected"),
    [
        pytest.param(LA, None, None, id="no-quiet-hours"),
        pytest.param((), NIGHT, None, id="no-known-zone"),
        # 04:00 in LA (inside the night): the next start is 21:00 there, 05:00 UTC tomorrow
        pytest.param(LA, NIGHT, datetime(2026, 3, 3, 5, 0, tzinfo=UTC), id="la-at-night"),
        # 04:00 in LA, quiet 09-17: starts at 09:00 there today, 17:00 UTC
        pytest.param(LA, DAY_ONLY, datetime(2026, 3, 2, 17, 0, tzinfo=UTC), id="later-today"),
        # 21:00 in Tokyo exactly: the start that is not in the future is tomorrow's
        pytest.param(TOKYO, NIGHT, datetime(2026, 3, 3, 12, 0, tzinfo=UTC), id="at-the-start"),
        pytest.param(
            (*TOKYO, *LA), DAY_ONLY, datetime(2026, 3, 2, 17, 0, tzinfo=UTC), id="the-first-zone"
        ),
        pytest.param(("Not/AZone",), NIGHT, None, id="unknown-zone-name"),
    ],
)
def test_the_next_quiet_hours_start(
    zones: tuple[str, ...], quiet: QuietHours | None, expected: datetime | None
) -> None:
    assert approval.next_quiet_start(zones, NOW, quiet) == expected


@pytest.mark.parametrize(
    ("caps", "expected"),
    [
        (Caps(per_day=1, per_week=3), NOW + timedelta(days=1)),
        (Caps(per_day=0, per_week=3), NOW + timedelta(days=7)),
        (Caps(per_day=0, per_week=0), None),
    ],
)
def test_a_marketing_approval_holds_while_it_counts_in_the_cap(
    caps: Caps, expected: datetime | None
) -> None:
    assert approval.cap_edge(NOW, caps) == expected


def test_the_messaging_limit_count_covers_a_send_for_an_hour_from_when_it_was_made() -> None:
    assert approval.reach_edge(NOW, None) == NOW + timedelta(hours=1)
    assert approval.reach_edge(NOW, NOW - 50 * M) == NOW + 10 * M


def test_earliest() -> None:
    assert approval.earliest(None, NOW + M, None, NOW) == NOW
    assert approval.earliest(None, None) is None


@pytest.mark.parametrize(
    ("reason", "refused"),
    [("131047", True), ("APPROVAL_EXPIRED", False), ("131026", False), ("", False)],
)
def test_only_metas_window_refusal_makes_policy_treat_the_window_as_closed(
    reason: str, refused: bool
) -> None:
    redecision = Redecision(count=1, reason=reason) if reason else None
    assert (
        approval.window_refused(_intent(TextContent(body="hi"), redecision=redecision)) is refused
    )


# decide


WABA = "w"
CONFIG = PolicyConfig(default_waba_id=WABA, approval_lifetime=timedelta(minutes=15))
UTILITY = TemplateContent(name="order_update", language="en_US")
PROMO = TemplateContent(name="spring_sale", language="en_US")


def _state(name: str, category: str, status: str = "APPROVED") -> TemplateStateChanged:
    return TemplateStateChanged(
        waba_id=WABA, name=name, language="en_US", category=category, status=status,
        parameters=ParameterSpec(body_count=0),
    )  # fmt: skip


def _facts(*states: TemplateStateChanged, **fields: object) -> Facts:
    table = {state_key(WABA, s.name, s.language): s for s in states}
    return Facts(templates=table.get, consent=OPTED_IN, **fields)  # type: ignore[arg-type]


def _intent(content: object, **fields: object) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id="1", to="16045551234", content=content, **fields
    )  # type: ignore[arg-type]


def _window(age: timedelta) -> WindowState:
    return WindowState(last_customer_message_at=NOW - age, last_message_id="wamid.in")


def test_a_template_approval_holds_for_the_lifetime() -> None:
    verdict = decide(_intent(UTILITY), _facts(_state("order_update", "UTILITY")), NOW, CONFIG)
    assert verdict.outcome == "approved" and verdict.valid_until == NOW + 15 * M


def test_not_after_ends_a_template_approval_sooner() -> None:
    intent = _intent(UTILITY, not_after=NOW + 5 * M)
    verdict = decide(intent, _facts(_state("order_update", "UTILITY")), NOW, CONFIG)
    assert verdict.valid_until == NOW + 5 * M


def test_quiet_hours_end_a_marketing_approval_before_they_start() -> None:
    evening = datetime(2026, 3, 3, 4, 50, tzinfo=UTC)  # 20:50 in California
    config = PolicyConfig(default_waba_id=WABA, quiet_hours=NIGHT)
    verdict = decide(_intent(PROMO), _facts(_state("spring_sale", "MARKETING")), evening, config)
    assert verdict.outcome == "approved"
    assert verdict.valid_until == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


def test_a_counted_customer_ends_the_approval_when_the_count_stops_covering_them() -> None:
    config = PolicyConfig(default_waba_id=WABA, messaging_limit=100, partitions=1)
    reach = Reach(share=100, used=1, counted_recently=True)
    facts = _facts(_state("order_update", "UTILITY"), reach=reach, reached_at=NOW - 55 * M)
    verdict = decide(_intent(UTILITY), facts, NOW, config)
    assert verdict.outcome == "approved" and verdict.valid_until == NOW + 5 * M


def test_free_form_holds_until_the_window_less_the_margin() -> None:
    verdict = decide(
        _intent(TextContent(body="hi")), _facts(window=_window(23 * 60 * M)), NOW, CONFIG
    )
    assert verdict.valid_until == NOW + 60 * M - CONFIG.window_safety_margin


def test_free_form_marketing_ends_at_quiet_hours_too() -> None:
    evening = datetime(2026, 3, 3, 4, 50, tzinfo=UTC)
    config = PolicyConfig(quiet_hours=NIGHT)
    intent = _intent(TextContent(body="sale"), category="marketing")
    window = WindowState(last_customer_message_at=evening - M, last_message_id="wamid.in")
    verdict = decide(intent, _facts(window=window), evening, config)
    assert verdict.outcome == "approved"
    assert verdict.valid_until == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


def test_after_metas_131047_policy_decides_the_fallback_whatever_window_it_saw() -> None:
    refused = Redecision(count=1, reason="131047")
    intent = _intent(TextContent(body="hi"), fallback_template=UTILITY, redecision=refused)
    facts = _facts(_state("order_update", "UTILITY"), window=_window(M))
    verdict = decide(intent, facts, NOW, CONFIG)
    assert verdict.outcome == "approved" and verdict.reasons == ["FALLBACK_TEMPLATE"]
    assert verdict.send is not None and verdict.send.content == UTILITY
    assert verdict.business_initiated and verdict.pricing == "utility"
    assert verdict.valid_until == NOW + 15 * M
    alone = _intent(TextContent(body="hi"), redecision=refused)
    rejected = decide(alone, facts, NOW, CONFIG)
    assert (rejected.outcome, rejected.reasons) == ("rejected", ["WINDOW_CLOSED"])
    assert "Meta refused" in rejected.detail


@pytest.mark.parametrize(
    ("state", "consent", "reason"),
    [
        (_state("order_update", "UTILITY", "PAUSED"), OPTED_IN, "TEMPLATE_PAUSED"),
        (_state("order_update", "MARKETING"), None, "NO_OPT_IN"),
    ],
)
def test_a_fallback_is_checked_with_the_rules_of_a_template(
    state: TemplateStateChanged, consent: ConsentState | None, reason: str
) -> None:
    intent = _intent(TextContent(body="hi"), fallback_template=UTILITY)
    facts = Facts(templates={state_key(WABA, state.name, "en_US"): state}.get, consent=consent)
    verdict = decide(intent, facts, NOW, CONFIG)
    assert (verdict.outcome, verdict.reasons) == ("rejected", [reason])
    assert verdict.valid_until is None


def test_a_template_approval_holds_fifteen_minutes_unless_configured() -> None:
    assert PolicySettings().policy_config().approval_lifetime == timedelta(minutes=15)
    assert PolicyConfig().approval_lifetime == timedelta(minutes=15)
    custom = PolicySettings(approval_lifetime_s=60).policy_config()
    assert custom.approval_lifetime == timedelta(minutes=1)
