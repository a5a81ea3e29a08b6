"""Throughput per number (130429) and per business-customer pair (131056) as token buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.sandbox.rules.limits import Bucket, Limits, check_rates, take

T0 = datetime(2025, 6, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("bucket", "elapsed_s", "left"),
    [
        pytest.param(None, 0, 4.0, id="fresh-bucket-is-full"),
        pytest.param(Bucket(0.0, T0), 0, None, id="empty"),
        pytest.param(Bucket(0.5, T0), 0, None, id="less-than-one"),
        pytest.param(Bucket(0.0, T0), 1, 0.0, id="refilled-one-per-second"),
        pytest.param(Bucket(0.0, T0), 100, 4.0, id="capped-at-capacity"),
        pytest.param(Bucket(3.0, T0), -5, 2.0, id="clock-going-back-adds-nothing"),
    ],
)
def test_take(bucket: Bucket | None, elapsed_s: float, left: float | None) -> None:
    now = T0 + timedelta(seconds=elapsed_s)
    after = take(bucket, capacity=5, per_second=1, now=now)

    if left is None:
        assert after is None
    else:
        assert after == Bucket(left, now)


def _burst(limits: Limits, count: int, every_s: float = 0.0) -> list[int | None]:
    number: Bucket | None = None
    pair: Bucket | None = None
    codes = []
    for i in range(count):
        number, pair, error = check_rates(number, pair, limits, T0 + timedelta(seconds=i * every_s))
        codes.append(error.code if error else None)
    return codes


def test_a_number_over_its_throughput_gets_130429() -> None:
    codes = _burst(Limits(mps=3, pair_burst=100), 5)
    assert codes == [None, None, None, 130429, 130429]


def test_throughput_recovers_within_a_second() -> None:
    assert _burst(Limits(mps=2, pair_burst=100), 6, every_s=0.5) == [None] * 6


def test_one_customer_faster_than_the_pair_rate_gets_131056() -> None:
    codes = _burst(Limits(mps=1000, pair_burst=45), 47)
    assert codes[:45] == [None] * 45
    assert codes[45:] == [131056, 131056]


def test_one_message_every_six_seconds_is_always_fine() -> None:
    assert _burst(Limits(pair_burst=1), 20, every_s=6) == [None] * 20


def test_faster_than_every_six_seconds_is_refused_once_the_burst_is_spent() -> None:
    assert _burst(Limits(pair_burst=1), 3, every_s=5) == [None, 131056, None]


def test_a_refusal_consumes_nothing() -> None:
    limits = Limits(mps=1, pair_burst=1)
    number, pair, _ = check_rates(None, None, limits, T0)
    again = check_rates(number, pair, limits, T0)
    assert again[:2] == (number, pair)
    assert again[2] is not None and again[2].code == 130429
