"""Token buckets over an explicit clock: number throughput and the per-customer pair rate."""

from __future__ import annotations

import pytest

from services.dispatch.rates import PairGate, TokenBucket


def _taken(bucket: TokenBucket, now: float, tries: int) -> int:
    return sum(bucket.try_take(now) for _ in range(tries))


@pytest.mark.parametrize(
    ("rate", "burst", "tries", "taken"),
    [(80, 80, 100, 80), (1000, 1000, 1500, 1000), (80, 1, 5, 1), (0.5, 3, 10, 3)],
)
def test_a_full_bucket_gives_its_burst_at_once(
    rate: float, burst: float, tries: int, taken: int
) -> None:
    assert _taken(TokenBucket(rate, burst), 10.0, tries) == taken


def test_the_bucket_refills_at_its_rate_and_never_beyond_its_burst() -> None:
    bucket = TokenBucket(80, 80)
    assert _taken(bucket, 0.0, 80) == 80
    assert bucket.wait_s(0.0) == pytest.approx(1 / 80)
    assert _taken(bucket, 0.5, 100) == 40
    assert _taken(bucket, 100.0, 1000) == 80


@pytest.mark.parametrize("rate", [20.0, 80.0, 1000.0])
def test_over_any_second_no_more_than_rate_plus_burst_go(rate: float) -> None:
    bucket = TokenBucket(rate, rate)
    steps = int(rate * 15)  # five polls per token
    times = [i / steps * 3 for i in range(steps)]  # 3 s of eager polling
    sent = [t for t in times if bucket.try_take(t)]
    after_burst = [t for t in sent if t >= 1.0]
    assert len(after_burst) <= rate * 2 + 1
    assert len(after_burst) >= rate * 2 - 2


def test_block_stops_tokens_and_drops_the_saved_burst() -> None:
    bucket = TokenBucket(10, 10)
    bucket.block(0.0, 2.0)
    assert bucket.wait_s(1.0) == pytest.approx(1.0)
    assert not bucket.try_take(1.9)
    assert bucket.try_take(2.0)  # refilled during the block at the normal rate
    assert bucket.wait_s(2.0) == 0.0


def test_the_pair_gate_spaces_messages_to_one_customer_only() -> None:
    gate = PairGate(interval_s=6.0, burst=1)
    assert gate.try_take("a", 0.0)
    assert not gate.try_take("a", 1.0)
    assert gate.wait_s("a", 1.0) == pytest.approx(5.0)
    assert gate.try_take("b", 1.0)  # another customer is not held up
    assert gate.try_take("a", 6.0)


def test_the_pair_gate_allows_a_configured_burst() -> None:
    gate = PairGate(interval_s=6.0, burst=3)
    assert [gate.try_take("a", 0.0) for _ in range(4)] == [True, True, True, False]


def test_the_pair_gate_forgets_the_longest_idle_customer() -> None:
    gate = PairGate(interval_s=6.0, burst=1, max_tracked=2)
    gate.try_take("a", 0.0)
    gate.try_take("b", 0.0)
    gate.try_take("c", 0.0)
    assert gate.wait_s("a", 0.1) == 0.0  # forgotten: a fresh, full bucket
    assert gate.wait_s("c", 0.1) > 0
