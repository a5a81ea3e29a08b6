"""Fault injection is seeded: the same seed gives the same faults and webhook plans."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from services.sandbox.faults import (
    ApiFault,
    FaultBoard,
    Faults,
    WebhookPlan,
    api_fault,
    webhook_plan,
)


def test_no_faults_by_default() -> None:
    board = FaultBoard(Faults(), seed=1)
    assert [board.next_api_fault() for _ in range(100)] == [None] * 100
    assert {board.next_webhook_plan() for _ in range(100)} == {WebhookPlan()}


@pytest.mark.parametrize(
    ("faults", "fault"),
    [
        (Faults(server_error_rate=1), ApiFault.SERVER_ERROR),
        (Faults(unavailable_rate=1), ApiFault.UNAVAILABLE),
        (Faults(timeout_rate=1), ApiFault.TIMEOUT),
        (Faults(drop_rate=1), ApiFault.DROP),
        (Faults(throttle_rate=1), ApiFault.THROTTLE),
    ],
)
def test_a_rate_of_one_always_fires(faults: Faults, fault: ApiFault) -> None:
    assert api_fault(random.Random(0), faults, 0) is fault


def test_rates_are_roughly_honoured() -> None:
    rng = random.Random(7)
    hits = sum(api_fault(rng, Faults(server_error_rate=0.2), 0) is not None for _ in range(5000))
    assert 900 < hits < 1100


def test_the_same_seed_repeats_the_same_faults() -> None:
    faults = Faults(server_error_rate=0.1, drop_rate=0.1, webhook_duplicate_rate=0.3)

    def run(seed: int) -> list[object]:
        board = FaultBoard(faults, seed)
        return [board.next_api_fault() for _ in range(200)] + [
            board.next_webhook_plan() for _ in range(200)
        ]

    assert run(42) == run(42)
    assert run(42) != run(43)


def test_a_throttling_burst_refuses_the_next_calls_too() -> None:
    board = FaultBoard(Faults(throttle_rate=1, throttle_burst=3), seed=0)
    assert board.next_api_fault() is ApiFault.THROTTLE
    board.configure(Faults(throttle_burst=3), seed=0)  # no new bursts, none in progress
    assert board.next_api_fault() is None

    board = FaultBoard(Faults(throttle_rate=1, throttle_burst=3), seed=0)
    board.next_api_fault()
    board.faults = Faults(throttle_burst=3)  # the burst already started goes on
    assert [board.next_api_fault() for _ in range(4)] == [ApiFault.THROTTLE] * 2 + [None] * 2


def test_a_throttling_window_refuses_every_call_until_it_ends() -> None:
    now = [100.0]
    board = FaultBoard(Faults(throttle_rate=1, throttle_window_s=2), seed=0, clock=lambda: now[0])
    assert board.next_api_fault() is ApiFault.THROTTLE
    board.faults = Faults(throttle_window_s=2)  # no new bursts; the window already open goes on
    refused = [board.next_api_fault() for _ in range(50)]  # more calls than any burst count
    now[0] = 101.9
    refused.append(board.next_api_fault())
    now[0] = 102.0
    assert refused == [ApiFault.THROTTLE] * 51
    assert [board.next_api_fault() for _ in range(3)] == [None] * 3


def test_a_new_throttling_window_opens_only_after_the_last_one_ended() -> None:
    now = [0.0]
    board = FaultBoard(Faults(throttle_rate=1, throttle_window_s=1), seed=0, clock=lambda: now[0])
    board.next_api_fault()
    now[0] = 0.5
    board.next_api_fault()  # inside the window: it is not stretched
    now[0] = 1.0
    assert board.next_api_fault() is ApiFault.THROTTLE  # a new window, from 1.0
    board.faults = Faults(throttle_window_s=1)
    now[0] = 1.99
    assert board.next_api_fault() is ApiFault.THROTTLE
    now[0] = 2.0
    assert board.next_api_fault() is None


def test_webhook_plans() -> None:
    everything = Faults(
        webhook_duplicate_rate=1,
        webhook_reorder_rate=1,
        webhook_delay_rate=1,
        webhook_delay_s=3,
        webhook_bad_signature_rate=1,
    )
    assert webhook_plan(random.Random(0), everything) == WebhookPlan(2, 3.0, True, True)


@pytest.mark.parametrize("field", ["drop_rate", "unavailable_rate", "webhook_reorder_rate"])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_rates_are_probabilities(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        Faults(**{field: value})


def test_a_throttling_window_is_not_negative() -> None:
    with pytest.raises(ValidationError):
        Faults(throttle_window_s=-1)


def test_strike_within_meets_every_rated_kind_in_each_span() -> None:
    # rates so low that 300 calls would rarely meet them all by chance
    faults = Faults(
        server_error_rate=0.001,
        unavailable_rate=0.001,
        timeout_rate=0.001,
        drop_rate=0.001,
        throttle_rate=0.001,
        throttle_burst=1,
        strike_within=20,
    )
    board = FaultBoard(faults, seed=5)
    calls = [board.next_api_fault() for _ in range(300)]
    for start in range(0, len(calls) - 20 + 1):
        span = calls[start : start + 20]
        assert set(ApiFault) <= set(span), (start, span)
    # the rest of the calls are left alone: forcing fills gaps, it does not flood
    assert calls.count(None) > 150


def test_strike_within_leaves_unrated_kinds_alone() -> None:
    board = FaultBoard(Faults(drop_rate=0.0001, strike_within=10), seed=1)
    calls = [board.next_api_fault() for _ in range(100)]
    assert set(calls) == {None, ApiFault.DROP}
    assert all(ApiFault.DROP in calls[i : i + 10] for i in range(91))


def test_strike_within_meets_every_rated_webhook_mangling() -> None:
    faults = Faults(
        webhook_duplicate_rate=0.001,
        webhook_delay_rate=0.001,
        webhook_reorder_rate=0.001,
        webhook_bad_signature_rate=0.001,
        webhook_delay_s=3,
        strike_within=20,
    )
    board = FaultBoard(faults, seed=2)
    plans = [board.next_webhook_plan() for _ in range(200)]
    for start in range(0, len(plans) - 20 + 1):
        span = plans[start : start + 20]
        assert any(p.copies == 2 for p in span)
        assert any(p.delay_s == 3 for p in span)
        assert any(p.hold_for_reorder for p in span)
        assert any(p.bad_signature for p in span)
    assert sum(p == WebhookPlan() for p in plans) > 120


def test_without_strike_within_a_low_rate_may_never_strike() -> None:
    board = FaultBoard(Faults(drop_rate=0.0001), seed=1)
    assert {board.next_api_fault() for _ in range(100)} == {None}


def test_a_span_shorter_than_the_rated_kinds_is_refused() -> None:
    with pytest.raises(ValidationError, match="strike_within=2 cannot meet 3"):
        Faults(drop_rate=0.1, timeout_rate=0.1, unavailable_rate=0.1, strike_within=2)
    assert Faults(drop_rate=0.1, timeout_rate=0.1, strike_within=2).strike_within == 2
