"""The dated pricing table: the period in force on the day prices each case, first matching
rule wins; a table that leaves a case unpriced, misspells a key or repeats a day never loads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.policy import pricing
from services.policy.pricing import Category, PricingTable, load, parse, shipped
from services.policy.rules import Facts, PolicyConfig, decide
from services.policy.settings import PolicySettings
from services.policy.windows import WindowState
from shared.errors import StartupError
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.keys import conversation_key
from shared.events.template_states import ParameterSpec, TemplateStateChanged
from tests.services.policy.test_handlers import NOW as HARNESS_NOW
from tests.services.policy.test_handlers import Harness, _opt_in

JUL_2025 = datetime(2025, 7, 1, tzinfo=UTC)
SEP_2026 = datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC)
OCT_2026 = datetime(2026, 10, 1, tzinfo=UTC)
MAY_2025 = datetime(2025, 5, 20, tzinfo=UTC)
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "category", "csw_open", "fep_open", "expected"),
    [
        # conversation-based months: service free, every template billed at its category
        (MAY_2025, "SERVICE", True, False, "free_service"),
        (MAY_2025, "UTILITY", True, False, "utility"),
        (MAY_2025, "MARKETING", False, True, "free_entry_point"),
        # per-message pricing from 2025-07-01 (rules §3.4)
        (JUL_2025, "SERVICE", True, False, "free_service"),
        (JUL_2025, "UTILITY", True, False, "free_service"),
        (JUL_2025, "UTILITY", False, False, "utility"),
        (JUL_2025, "MARKETING", True, False, "marketing"),
        (JUL_2025, "MARKETING", False, False, "marketing"),
        (JUL_2025, "AUTHENTICATION", True, False, "authentication"),
        (JUL_2025, "AUTHENTICATION", False, True, "free_entry_point"),
        (SEP_2026, "UTILITY", True, False, "free_service"),
        (SEP_2026, "SERVICE", True, False, "free_service"),
        # from 2026-10-01 (reported, §9.4): service billed as SERVICE, utility in window billed
        (OCT_2026, "SERVICE", True, False, "service"),
        (OCT_2026, "UTILITY", True, False, "utility"),
        (OCT_2026, "MARKETING", True, False, "marketing"),
        (OCT_2026, "SERVICE", True, True, "free_entry_point"),
        (OCT_2026, "UTILITY", False, True, "free_entry_point"),
    ],
)
def test_shipped_table(
    now: datetime, category: Category, csw_open: bool, fep_open: bool, expected: str
) -> None:
    assert shipped().expected(category, csw_open=csw_open, fep_open=fep_open, now=now) == expected


def test_before_the_first_period_nothing_is_expected() -> None:
    early = datetime(2020, 1, 1, tzinfo=UTC)
    assert shipped().expected("SERVICE", csw_open=True, fep_open=False, now=early) is None


def test_without_reported_periods_the_meta_rules_stay_in_force() -> None:
    table = load(reported=False)
    assert {p.basis for p in table.periods} == {"meta"}
    assert table.expected("SERVICE", csw_open=True, fep_open=False, now=OCT_2026) == "free_service"
    assert table.expected("UTILITY", csw_open=True, fep_open=False, now=OCT_2026) == "free_service"


def _table(*periods: dict[str, object]) -> str:
    return json.dumps({"periods": list(periods)})


EVERYTHING = [{"pricing": "marketing"}]


def test_a_period_starts_at_midnight_utc() -> None:
    table = parse(
        _table(
            {"effective_from": "2027-01-01", "basis": "meta", "rules": EVERYTHING},
            {"effective_from": "2027-04-01", "basis": "meta", "rules": [{"pricing": "x"}]},
        )
    )
    edge = datetime(2027, 4, 1, tzinfo=UTC)
    before = table.expected(
        "SERVICE", csw_open=True, fep_open=False, now=edge - timedelta(seconds=1)
    )
    assert before == "marketing"
    assert table.expected("SERVICE", csw_open=True, fep_open=False, now=edge) == "x"


def test_the_latest_period_begun_prices_whatever_order_the_table_lists_them_in() -> None:
    table = parse(
        _table(
            {"effective_from": "2027-04-01", "basis": "meta", "rules": [{"pricing": "april"}]},
            {"effective_from": "2027-01-01", "basis": "meta", "rules": [{"pricing": "jan"}]},
            {"effective_from": "2027-02-01T12:00:00+02:00", "basis": "reported",
             "rules": [{"pricing": "feb"}]},
        )
    )  # fmt: skip

    def at(now: datetime) -> str | None:
        return table.expected("SERVICE", csw_open=True, fep_open=False, now=now)

    assert at(datetime(2026, 12, 31, tzinfo=UTC)) is None and table.in_force(NEVER) is None
    assert at(datetime(2027, 1, 1, tzinfo=UTC)) == "jan"
    assert at(datetime(2027, 2, 1, 9, 59, tzinfo=UTC)) == "jan"
    assert at(datetime(2027, 2, 1, 10, tzinfo=UTC)) == "feb"  # 12:00 at +02:00
    assert at(datetime(2030, 1, 1, tzinfo=UTC)) == "april"
    assert table.in_force(datetime(2027, 3, 1, tzinfo=UTC)) is table.periods[2]


def test_a_table_made_from_a_priced_one_prices_by_its_own_periods() -> None:
    table = parse(
        _table(
            {"effective_from": "2027-01-01", "basis": "meta", "rules": [{"pricing": "meta"}]},
            {"effective_from": "2027-02-01", "basis": "reported", "rules": [{"pricing": "rep"}]},
        )
    )
    later = datetime(2027, 3, 1, tzinfo=UTC)
    assert table.expected("UTILITY", csw_open=False, fep_open=False, now=later) == "rep"
    kept = table.without_reported()  # a copy of the table already priced, fewer periods
    assert kept.expected("UTILITY", csw_open=False, fep_open=False, now=later) == "meta"
    moved = table.model_copy(update={"periods": table.periods[1:]})
    assert moved.expected("UTILITY", csw_open=False, fep_open=False, now=later) == "rep"
    assert moved.in_force(datetime(2027, 1, 15, tzinfo=UTC)) is None
    assert table.expected("UTILITY", csw_open=False, fep_open=False, now=later) == "rep"


def test_first_matching_rule_wins() -> None:
    rules = [
        {"category": "UTILITY", "window": "inside", "pricing": "free_service"},
        {"category": "UTILITY", "pricing": "utility"},
        {"pricing": "other"},
    ]
    table = parse(_table({"effective_from": "2025-07-01", "basis": "meta", "rules": rules}))
    at = JUL_2025
    assert table.expected("UTILITY", csw_open=True, fep_open=False, now=at) == "free_service"
    assert table.expected("UTILITY", csw_open=False, fep_open=False, now=at) == "utility"
    assert table.expected("SERVICE", csw_open=False, fep_open=False, now=at) == "other"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "is not JSON"),
        ("[]", "is not a pricing table"),
        (_table(), "is not a pricing table"),
        (  # a case no rule prices
            _table(
                {
                    "effective_from": "2025-07-01",
                    "basis": "meta",
                    "rules": [{"category": "SERVICE", "pricing": "free_service"}],
                }
            ),
            "prices no UTILITY message",
        ),
        (  # a misspelt key would silently widen a rule
            _table(
                {
                    "effective_from": "2025-07-01",
                    "basis": "meta",
                    "rules": [{"categry": "SERVICE", "pricing": "x"}],
                }
            ),
            "categry",
        ),
        (
            _table(
                {
                    "effective_from": "2025-07-01",
                    "basis": "meta",
                    "rules": [{"window": "in", "pricing": "x"}],
                }
            ),
            "window",
        ),
        (
            _table({"effective_from": "2025-07-01", "basis": "rumour", "rules": EVERYTHING}),
            "basis",
        ),
        (
            _table(
                {"effective_from": "2025-07-01", "basis": "meta", "rules": EVERYTHING},
                {"effective_from": "2025-07-01", "basis": "reported", "rules": EVERYTHING},
            ),
            "same time",
        ),
    ],
)
def test_a_broken_table_is_refused_at_start(text: str, says: str) -> None:
    with pytest.raises(StartupError, match=says):
        parse(text)


def test_a_table_file_that_cannot_be_read_or_has_only_reports(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="cannot be read"):
        load(tmp_path / "missing.json")
    only = tmp_path / "reported.json"
    only.write_text(
        _table({"effective_from": "2026-10-01", "basis": "reported", "rules": EVERYTHING})
    )
    assert load(only).periods[0].basis == "reported"
    with pytest.raises(StartupError, match="no period Meta documents"):
        load(only, reported=False)


def test_the_decision_carries_the_price_of_the_day() -> None:
    """A dated change in the table changes what the same in-window reply is expected to cost."""
    table: PricingTable = parse(
        _table(
            {
                "effective_from": "2025-07-01",
                "basis": "meta",
                "rules": [{"pricing": "free_service"}],
            },
            {
                "effective_from": "2026-10-01",
                "basis": "reported",
                "rules": [{"pricing": "service"}],
            },
        )
    )
    intent = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id="1", to="16505551234", content=TextContent(body="Hi")
    )
    config = PolicyConfig(pricing=table)
    for now, expected in ((SEP_2026, "free_service"), (OCT_2026, "service")):
        window = WindowState(last_customer_message_at=now - timedelta(hours=1))
        verdict = decide(intent, Facts(window=window), now, config)
        assert verdict.outcome == "approved"
        assert verdict.pricing == expected


def test_the_shipped_file_is_the_default() -> None:
    assert pricing.SHIPPED.name == "pricing.json"
    assert PolicyConfig().pricing == shipped()


def test_settings_pick_the_table_and_the_reported_periods(tmp_path: Path) -> None:
    custom = tmp_path / "prices.json"
    custom.write_text(
        _table({"effective_from": "2025-07-01", "basis": "meta", "rules": EVERYTHING})
    )
    config = PolicySettings(pricing_table=custom).policy_config()
    assert (
        config.pricing.expected("SERVICE", csw_open=True, fep_open=False, now=OCT_2026)
        == "marketing"
    )
    plain = PolicySettings(pricing_reported=False).policy_config().pricing
    assert plain.expected("SERVICE", csw_open=True, fep_open=False, now=OCT_2026) == "free_service"
    with pytest.raises(StartupError):
        PolicySettings(pricing_table=tmp_path / "none.json").policy_config()


@pytest.mark.parametrize(
    ("category", "pricing"), [("MARKETING", "marketing"), ("UTILITY", "utility")]
)
async def test_an_approved_template_decision_names_its_category_and_price(
    category: str, pricing: str
) -> None:
    """Dispatch routes by the decision's `template_category` (MARKETING: the marketing API)."""
    waba, pnid, customer = "w-1", "pn-1", "16045551234"  # +1, not the US
    state = TemplateStateChanged(
        waba_id=waba, name="flash", language="en_US", category=category, status="APPROVED",
        parameters=ParameterSpec(body_count=0),
    )  # fmt: skip
    h = Harness(
        PolicyConfig(default_waba_id=waba), templates={state.key: state.model_dump(mode="json")}
    )
    h.handlers.on_consent(_opt_in(pnid, customer, HARNESS_NOW - timedelta(hours=1)))
    intent = OutboundIntentSubmitted(
        intent_id="t-1", phone_number_id=pnid, to=customer,
        content=TemplateContent(name="flash", language="en_US"),
    )  # fmt: skip
    await h.handlers.on_intent(intent, conversation_key(pnid, customer).encode(), b"")
    [decision] = h.decisions()
    assert (decision.outcome, decision.template_category) == ("approved", category)
    assert decision.pricing == pricing


def test_a_period_may_start_at_a_time_with_its_offset() -> None:
    table = parse(
        _table(
            {"effective_from": "2027-01-01", "basis": "meta", "rules": EVERYTHING},
            {
                "effective_from": "2027-01-01T12:00:00+02:00",
                "basis": "meta",
                "rules": [{"pricing": "x"}],
            },
        )
    )
    edge = datetime(2027, 1, 1, 10, 0, tzinfo=UTC)
    early = table.expected(
        "SERVICE", csw_open=True, fep_open=False, now=edge - timedelta(seconds=1)
    )
    assert early == "marketing"
    assert table.expected("SERVICE", csw_open=True, fep_open=False, now=edge) == "x"
    with pytest.raises(StartupError, match="same time"):
        parse(
            _table(
                {"effective_from": "2027-01-01", "basis": "meta", "rules": EVERYTHING},
                {"effective_from": "2027-01-01T00:00:00Z", "basis": "meta", "rules": EVERYTHING},
            )
        )
    with pytest.raises(StartupError):  # a time without its offset is ambiguous
        parse(
            _table({"effective_from": "2027-01-01T12:00:00", "basis": "meta", "rules": EVERYTHING})
        )
