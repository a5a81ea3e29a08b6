"""Backpressure: a partition is paused at its high-water backlog and resumed at low water."""

from __future__ import annotations

from prometheus_client import Gauge

from services.dispatch.backpressure import Backpressure
from shared.metrics import new_registry
from tests.services.dispatch.fakes import FakeConsumer


def _backpressure(consumer: FakeConsumer) -> Backpressure:
    gauge = Gauge("paused", "paused partitions", registry=new_registry())
    return Backpressure(consumer, high=3, low=1, gauge=gauge)  # type: ignore[arg-type]


def test_a_partition_pauses_at_high_water_and_resumes_at_low_water() -> None:
    consumer = FakeConsumer(assigned={"p0", "p1"})
    bp = _backpressure(consumer)
    for _ in range(3):
        bp.admitted("p0")
    bp.admitted("p1")
    assert consumer.paused_now == {"p0"} and bp.paused == {"p0"}
    bp.released("p0")
    assert consumer.paused_now == {"p0"}  # 2 left, above low water
    bp.released("p0")
    assert consumer.paused_now == set() and bp.backlog("p0") == 1
    assert bp.backlog("p1") == 1


def test_restored_intents_count_nowhere_and_releases_never_go_negative() -> None:
    consumer = FakeConsumer(assigned={"p0"})
    bp = _backpressure(consumer)
    bp.admitted(None)
    bp.released(None)
    bp.released("p0")
    assert bp.backlog("p0") == 0 and consumer.paused_now == set()


def test_a_partition_no_longer_assigned_is_not_paused_or_resumed() -> None:
    consumer = FakeConsumer(assigned=set())
    bp = _backpressure(consumer)
    for _ in range(3):
        bp.admitted("gone")
    assert consumer.paused_now == set() and bp.paused == {"gone"}
    for _ in range(3):
        bp.released("gone")
    assert bp.paused == set()


async def test_a_rebalance_keeps_a_still_backed_up_partition_paused() -> None:
    from services.dispatch.backpressure import RebalanceListener

    consumer = FakeConsumer(assigned={"p0", "p1", "p2"})
    bp = _backpressure(consumer)
    for source in ("p0", "p1"):
        for _ in range(3):
            bp.admitted(source)
    bp.released("p1")  # p1: 2 left, still above low water; p0: 3
    assert bp.paused == {"p0", "p1"}
    # the rebalance: the consumer forgets its pauses; p1 moved to another process
    consumer.assigned, consumer.paused_now = {"p0", "p2"}, set()
    await RebalanceListener(bp).on_partitions_assigned({"p0", "p2"})
    assert consumer.paused_now == {"p0"} and bp.paused == {"p0"}
    for _ in range(2):
        bp.released("p0")
    assert consumer.paused_now == set()
