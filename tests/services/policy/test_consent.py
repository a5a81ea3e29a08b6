"""Consent transitions, keywords, user_preferences values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.policy import consent
from services.policy.consent import DEFAULT_START_WORDS, DEFAULT_STOP_WORDS, ConsentState

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_the_latest_fact_wins_whatever_the_order_of_arrival() -> None:
    state = consent.record(None, "marketing", True, T0, "business")
    assert state is not None and state.marketing_allowed()
    stopped = consent.record(state, "marketing", False, T0 + timedelta(hours=1), "keyword")
    assert stopped is not None and not stopped.marketing_allowed()
    assert consent.record(stopped, "marketing", True, T0 + timedelta(minutes=5), "late") is None
    assert consent.record(stopped, "marketing", True, T0 + timedelta(hours=1), "same") is None


@pytest.mark.parametrize(
    ("category", "field"),
    [
        ("marketing", "marketing"),
        ("marketing_messages", "marketing"),
        ("MARKETING", "marketing"),
        ("all", "everything"),
    ],
)
def test_categories(category: str, field: str) -> None:
    state = consent.record(None, category, False, T0, "x")
    assert state is not None and getattr(state, field) is not None


def test_an_unknown_category_changes_nothing() -> None:
    assert consent.record(None, "utility", False, T0, "x") is None


def test_opting_out_of_everything_blocks_marketing_too() -> None:
    state = consent.record(None, "marketing", True, T0, "business")
    everything = consent.record(state, "all", False, T0, "business")
    assert everything is not None
    assert everything.opted_out_of_all() and not everything.marketing_allowed()
    assert not ConsentState().marketing_allowed()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", False),
        ("  stop. ", False),
        ("Parar", False),
        ("ARRÊT", False),
        ("start", True),
        ("please stop sending", None),
        ("", None),
        (None, None),
        ("stopping", None),
    ],
)
def test_keywords(text: str | None, expected: bool | None) -> None:
    assert consent.keyword(text, DEFAULT_STOP_WORDS, DEFAULT_START_WORDS) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [("stop", False), ("resume", True), ("STOP", False), ("pause", None)]
)
def test_user_preference_values(value: str, expected: bool | None) -> None:
    assert consent.preference(value) is expected
