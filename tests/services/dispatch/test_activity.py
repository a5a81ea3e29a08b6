"""Messages the number sent without dispatch (Business app echoes, Meta's agent) use the
customer's pair rate and the number's throughput: the buckets as tables, then through the
subscription, where an echo makes the next send to that customer wait."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from services.dispatch.activity import still_counts
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.rates import PairGate, TokenBucket
from services.dispatch.sender import NumberSender
from services.dispatch.settings import DispatchSettings, RateSettings
from shared.events.envelope import utcnow
from shared.events.signals import OutboundActivityObserved
from shared.metrics import new_registry
from tests.services.dispatch.conftest import Shell, approved
from tests.services.dispatch.fakes import MemoryBudget

pytestmark = pytest.mark.unit
RECORD: ConsumerRecord[bytes, bytes] = ConsumerRecord(
    "activity", 0, 0, 0, 0, None, b"", None, 0, 0, ()
)


@pytest.mark.parametrize(
    ("burst", "spent", "wait"),
    [(1, 1, 6.0), (3, 1, 0.0), (3, 3, 6.0), (1, 5, 12.0)],  # debt at most one burst deep
)
def test_an_echo_takes_a_pair_token_even_from_an_empty_gate(
    burst: float, spent: int, wait: float
) -> None:
    gate = PairGate(interval_s=6.0, burst=burst)
    for _ in range(spent):
        gate.spend("16505551234", 0.0)
    assert gate.wait_s("+1 650-555-1234", 0.0) == pytest.approx(
        wait
    )  # one customer, spelt two ways
    assert gate.wait_s("16505550000", 0.0) == 0.0


def test_an_echo_takes_a_throughput_token() -> None:
    bucket = TokenBucket(rate=20, burst=1)
    bucket.spend(0.0)
    assert bucket.wait_s(0.0) == pytest.approx(1 / 20)


@pytest.mark.parametrize(("age_s", "counts"), [(0, True), (17.9, True), (18, False), (-5, True)])
def test_only_a_recent_echo_still_weighs_on_the_buckets(age_s: float, counts: bool) -> None:
    now = utcnow()
    assert still_counts(now - timedelta(seconds=age_s), now, horizon_s=18) is counts


def echo(to: str = "16505551234", age_s: float = 0.0, **fields: Any) -> OutboundActivityObserved:
    return OutboundActivityObserved(
        phone_number_id="pn-1", source="business_app", message_id=f"wamid.echo.{age_s}", to=to,
        message_type="text", timestamp=utcnow() - timedelta(seconds=age_s), **fields,
    )  # fmt: skip


@pytest.fixture
def rig_settings(rig_settings: dict[str, Any]) -> dict[str, Any]:
    rig_settings["rates"] = {**rig_settings["rates"], "pair_interval_s": 0.6, "pair_burst": 1}
    return rig_settings


async def _first_send_after(shell: Shell, intent_id: str, to: str) -> float:
    start = time.monotonic()
    await shell.decide(approved(intent_id, to=to))
    await shell.wait_for(lambda: shell.states(intent_id) == ["accepted"])
    return time.monotonic() - start


async def test_an_echo_makes_the_next_send_to_that_customer_wait(shell: Shell) -> None:
    _, _, activity = shell.dispatch.subscriptions.values()
    await activity.handler(echo(), RECORD)
    waited = await _first_send_after(shell, "i-1", "+16505551234")
    assert waited >= 0.5
    await activity.handler(echo(to="16505550000", age_s=3600), RECORD)  # long ago: no weight
    assert await _first_send_after(shell, "i-2", "16505550000") < 0.4
    assert await _first_send_after(shell, "i-3", "16505559999") < 0.4  # nobody else waits


async def test_with_a_shared_budget_an_echo_comes_out_of_what_every_replica_shares() -> None:
    """Seen by one replica, an echo takes a token of the number's shared budget too, so the
    replicas together send one fewer, not only this replica's bucket."""
    clock = [time.monotonic()]
    budget = MemoryBudget(clock)
    rates = RateSettings(default_mps=100.0, headroom=0.0, lease_s=0.05)
    settings = DispatchSettings(rates=rates)
    metrics = DispatchMetrics(new_registry())
    sender = NumberSender("pn-1", settings, None, None, metrics, budget=budget)  # type: ignore[arg-type]
    shared = sender.shared
    assert shared is not None
    assert await shared.wait_s(clock[0]) == 0  # a block leased
    before = shared._lease.left(clock[0])
    sender.observe("16505551234", clock[0])
    assert shared._lease.left(clock[0]) == before - 1
