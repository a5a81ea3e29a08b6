"""The messaging limit as Meta reports it: an account update changes what policy admits at
once, per business portfolio; settings give the value until Meta reports one; a late or
replayed older report changes nothing. And Meta's 131049, kept for the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.policy.consent import ConsentRules
from services.policy.rules import PolicyConfig
from shared.events.account import AccountUpdateReported
from shared.events.intents import OutboundIntentSubmitted, Redecision, TemplateContent
from shared.events.keys import conversation_key
from shared.events.template_states import ParameterSpec, TemplateStateChanged
from tests.services.policy.test_handlers import Harness

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
WABA, OTHER_WABA = "w", "w2"
PORTFOLIO, OTHER_PORTFOLIO = "p1", "p2"
SHOP, DESK = "1", "2"  # SHOP in the default portfolio, DESK in the other


def _config(messaging_limit: int | None = 1, **values: Any) -> PolicyConfig:
    return PolicyConfig(
        default_waba_id=WABA,
        waba_ids={DESK: OTHER_WABA},
        messaging_limit=messaging_limit,
        partitions=1,
        consent=ConsentRules(
            opt_in_required=frozenset(),
            portfolio_ids={OTHER_WABA: OTHER_PORTFOLIO},
            default_portfolio_id=PORTFOLIO,
        ),
        **values,
    )


def _states() -> dict[str, Any]:
    states = [
        TemplateStateChanged(
            waba_id=waba,
            name="order_shipped",
            language="en_US",
            category=category,
            status="APPROVED",
            parameters=ParameterSpec(body_count=0),
        )
        for waba in (WABA, OTHER_WABA)
        for category in ("UTILITY",)
    ]
    return {s.key: s.model_dump() for s in states}


def _limit(
    waba: str, tier: Any, at: datetime, field: str = "business_capability_update"
) -> AccountUpdateReported:
    return AccountUpdateReported(
        producer="ingest", field=field, waba_id=waba, reported_at=at,
        details={"max_daily_conversations_per_business": tier},
    )  # fmt: skip


async def _send(h: Harness, number: str, customer: str, n: int) -> str:
    intent = OutboundIntentSubmitted(
        intent_id=f"i{n}", phone_number_id=number, to=customer,
        content=TemplateContent(name="order_shipped", language="en_US"),
    )  # fmt: skip
    await h.handlers.on_intent(intent, conversation_key(number, customer).encode(), b"")
    return h.decisions()[-1].outcome


async def test_a_reported_limit_changes_what_policy_admits_at_once() -> None:
    h = Harness(_config(), now=NOW, templates=_states())
    assert await _send(h, SHOP, "5511900000001", 1) == "approved"
    assert await _send(h, SHOP, "5511900000002", 2) == "rejected"  # the settings' limit: 1
    h.handlers.on_account(_limit(WABA, "TIER_2K", NOW))
    assert await _send(h, SHOP, "5511900000003", 3) == "approved"
    assert h.metric("wagate_policy_messaging_limits_reported_total") == 1
    assert h.handlers.accounts.view()[PORTFOLIO]["limit"] == 2000


async def test_each_portfolio_has_its_own_limit_and_count() -> None:
    h = Harness(_config(messaging_limits={OTHER_PORTFOLIO: 3}), now=NOW, templates=_states())
    assert await _send(h, SHOP, "5511900000001", 1) == "approved"
    assert await _send(h, SHOP, "5511900000002", 2) == "rejected"
    for n in range(3):  # the other portfolio: its own limit, its own count
        assert await _send(h, DESK, f"551190000010{n}", 10 + n) == "approved"
    assert await _send(h, DESK, "5511900000199", 20) == "rejected"
    h.handlers.on_account(_limit(OTHER_WABA, "TIER_UNLIMITED", NOW))
    assert await _send(h, DESK, "5511900000198", 21) == "approved"
    assert await _send(h, SHOP, "5511900000003", 22) == "rejected"  # not this portfolio's
    assert h.handlers.accounts.view()[OTHER_PORTFOLIO] == {
        "limit": None, "reported_at": NOW.isoformat(), "field": "business_capability_update",
        "waba_id": OTHER_WABA, "source": "meta",
    }  # fmt: skip


async def test_an_older_report_never_replaces_a_newer_one() -> None:
    h = Harness(_config(), now=NOW, templates=_states())
    h.handlers.on_account(_limit(WABA, "TIER_10K", NOW))
    h.handlers.on_account(_limit(WABA, "TIER_250", NOW - timedelta(hours=1)))  # replayed
    assert h.handlers.accounts.limit_for(SHOP) == 10_000
    h.handlers.on_account(_limit(WABA, "TIER_100K", NOW + timedelta(hours=1), field=(
        "phone_number_quality_update"
    )))  # fmt: skip
    assert h.handlers.accounts.limit_for(SHOP) == 100_000


async def test_an_update_with_no_limit_changes_nothing() -> None:
    h = Harness(_config(), now=NOW, templates=_states())
    h.handlers.on_account(_limit(WABA, "TIER_NOT_SET", NOW))
    h.handlers.on_account(
        AccountUpdateReported(
            producer="ingest",
            field="account_update",
            waba_id=WABA,
            event="ACCOUNT_VIOLATION",
            details={"violation_info": {"violation_type": "SCAM"}},
        )
    )
    assert h.tables.accounts == {} and h.handlers.accounts.limit_for(SHOP) == 1
    assert h.handlers.accounts.view() == {PORTFOLIO: {"limit": 1, "source": "settings"}}


async def test_131049_is_kept_for_the_customer_so_their_other_marketing_waits() -> None:
    marketing = TemplateStateChanged(
        waba_id=WABA, name="spring_sale", language="en_US", category="MARKETING",
        status="APPROVED", parameters=ParameterSpec(body_count=0),
    )  # fmt: skip
    h = Harness(
        _config(messaging_limit=None, marketing_hold=timedelta(hours=24)),
        now=NOW,
        templates={marketing.key: marketing.model_dump()},
    )
    customer = "5511900000001"
    key = conversation_key(SHOP, customer)
    back = OutboundIntentSubmitted(
        intent_id="m1", phone_number_id=SHOP, to=customer, occurred_at=NOW,
        content=TemplateContent(name="spring_sale", language="en_US"),
        redecision=Redecision(count=1, reason="131049"),
    )  # fmt: skip
    await h.handlers.on_intent(back, key.encode(), back.model_dump_json().encode())
    [first] = h.decisions()
    assert (first.outcome, first.reasons) == ("deferred", ["CUSTOMER_MARKETING_HELD"])
    assert first.valid_until == NOW + timedelta(hours=24)
    assert h.tables.marketing[key]["meta_held_until"] == (
        NOW + timedelta(hours=24)
    ).isoformat().replace("+00:00", "Z")
    other = back.model_copy(update={"intent_id": "m2", "redecision": None})
    h.now = NOW + timedelta(hours=2)
    await h.handlers.on_intent(other, key.encode(), other.model_dump_json().encode())
    assert h.decisions()[-1].reasons == ["CUSTOMER_MARKETING_HELD"]
    assert set(h.tables.deferred[key]) == {"m1", "m2"}  # each released when the hold ends
