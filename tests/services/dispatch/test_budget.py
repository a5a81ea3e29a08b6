"""One number's sends from one replica within the budget all replicas share (`SharedRate`
over an in-memory budget and an explicit clock): leases of a block, lost when unspent, the
rate of the number shared by replicas, Meta's throttle passed on, the local share while the
budget cannot be reached."""

from __future__ import annotations

import pytest

from services.dispatch.budget import SharedRate
from services.dispatch.rates import Lease, lease_block
from services.dispatch.settings import RateSettings
from tests.services.dispatch.fakes import MemoryBudget


def _rates(mps: float = 100.0, replicas: int = 1) -> RateSettings:
    return RateSettings(default_mps=mps, headroom=0.0, lease_s=0.05, replicas=replicas)


async def _sent(replicas: list[SharedRate], clock: list[float], seconds: float) -> int:
    """Every replica sends whenever it may, polled each millisecond, for `seconds`."""
    return sum(await _sent_each(replicas, clock, seconds))


async def _sent_each(replicas: list[SharedRate], clock: list[float], seconds: float) -> list[int]:
    """What each replica sent, polled in the same order every millisecond for `seconds`."""
    sent = [0] * len(replicas)
    end = clock[0] + seconds
    while clock[0] < end:
        for n, replica in enumerate(replicas):
            while await replica.wait_s(clock[0]) == 0 and replica.take(clock[0]):
                sent[n] += 1
        clock[0] += 0.001
    return sent


@pytest.mark.parametrize(
    ("rate", "lease_s", "block"), [(80, 0.05, 4), (1000, 0.05, 50), (5, 0.05, 2)]
)
def test_a_lease_is_lease_s_of_the_rate_and_at_least_two(
    rate: float, lease_s: float, block: int
) -> None:
    assert lease_block(rate, lease_s) == block


def test_leased_tokens_are_spent_until_they_expire_then_lost() -> None:
    lease = Lease()
    lease.add(3, asked_at=10.0, valid_s=0.1)
    assert lease.take(10.05) and lease.take(10.06)
    lease.add(2, asked_at=10.07, valid_s=0.1)  # asked for before the last was spent
    assert lease.left(10.1) == 3
    assert lease.left(10.17) == 0 and not lease.take(10.17)  # the rest is lost
    lease.add(2, 11.0, 0.1)
    assert lease.left(11.0) == 2  # nothing carried over from a lease that expired
    lease.drop()
    assert not lease.take(11.0)


@pytest.mark.parametrize("replicas", [1, 3, 5])
async def test_replicas_together_send_the_rate_and_no_more(replicas: int) -> None:
    clock = [100.0]
    budget = MemoryBudget(clock)
    senders = [SharedRate("pn-1", budget, _rates(100.0)) for _ in range(replicas)]
    sent = await _sent(senders, clock, 3.0)
    assert 0.95 * 300 <= sent <= 300 + senders[0].burst + senders[0].block_size
    assert budget.asks <= replicas * 3.0 / (0.05 / 2) + 3.0 / 0.05 + replicas  # no storm


@pytest.mark.parametrize("replicas", [2, 3, 5])
async def test_replicas_asking_in_the_same_order_each_send_their_share(replicas: int) -> None:
    clock = [100.0]
    budget = MemoryBudget(clock)
    senders = [SharedRate("pn-1", budget, _rates(100.0)) for _ in range(replicas)]
    each = await _sent_each(senders, clock, 4.0)
    assert min(each) >= 0.6 * sum(each) / replicas, each  # none starved by coming later


async def test_a_lease_not_spent_in_time_is_not_spent_later() -> None:
    clock = [0.0]
    shared = SharedRate("pn-1", MemoryBudget(clock), _rates(100.0))
    assert await shared.wait_s(0.0) == 0  # a block of 5 leased
    assert shared.take(0.0)
    assert not shared.take(0.2)  # expired: lease_s past the time to spend the block
    clock[0] = 0.2
    assert await shared.wait_s(0.2) == 0 and shared.take(0.2)  # a new lease


async def test_meta_s_throttle_drops_the_lease_and_blocks_the_shared_row() -> None:
    clock = [0.0]
    budget = MemoryBudget(clock)
    one, other = (SharedRate("pn-1", budget, _rates(100.0)) for _ in range(2))
    assert await one.wait_s(0.0) == 0 and one.take(0.0)
    one.throttled(0.0, 2.0)
    assert not one.take(0.0)
    await next(iter(one._tasks))  # the row is blocked in the background
    assert budget.blocks == [("pn-1", 2.0)]
    clock[0] = 1.0
    assert await other.wait_s(1.0) == pytest.approx(1.0)  # the other replica waits it out
    assert await one.wait_s(1.0) == pytest.approx(1.0)
    clock[0] = 2.0
    assert await other.wait_s(2.0) == 0


async def test_while_the_budget_is_unreachable_a_replica_sends_its_share_only() -> None:
    clock = [0.0]
    budget = MemoryBudget(clock)
    shared = SharedRate("pn-1", budget, _rates(90.0, replicas=3))
    budget.down = True
    sent = await _sent([shared], clock, 2.0)
    assert shared.cut_off
    assert 2 * 30 - 2 <= sent <= 2 * 30 + 2  # 90 mps / 3 replicas
    budget.down = False
    clock[0] += 1.0  # past the next try
    await _sent([shared], clock, 0.01)
    assert not shared.cut_off
    assert await _sent([shared], clock, 1.0) >= 85  # the whole rate again


async def test_a_retuned_rate_is_what_the_next_leases_ask_for() -> None:
    clock = [0.0]
    shared = SharedRate("pn-1", MemoryBudget(clock), _rates(80.0))
    shared.retune(1000.0)
    assert shared.block_size == 50
    assert await _sent([shared], clock, 1.0) >= 950


@pytest.mark.parametrize("replicas", [1, 3])
async def test_messages_sent_without_dispatch_leave_every_replica_less_to_send(
    replicas: int,
) -> None:
    """Echoes (the Business app, Meta's agent) use the number's throughput: seen by one replica,
    they come out of the budget all replicas share, so together they send the rest."""
    clock = [100.0]
    budget = MemoryBudget(clock)
    senders = [SharedRate("pn-1", budget, _rates(100.0)) for _ in range(replicas)]
    sent = 0
    echoes = 0
    end = clock[0] + 3.0
    while clock[0] < end:
        if round(clock[0] * 1000) % 50 == 0:  # 20 echoes a second, all seen by the first
            senders[0].spent_elsewhere(clock[0])
            echoes += 1
        for sender in senders:
            while await sender.wait_s(clock[0]) == 0 and sender.take(clock[0]):
                sent += 1
        clock[0] += 0.001
    assert echoes == 60
    slack = senders[0].burst + senders[0].block_size  # the row's first burst, a block in hand
    assert 0.95 * (300 - echoes) <= sent <= 300 - echoes + slack


async def test_an_echo_while_the_budget_is_unreachable_comes_out_of_the_local_share() -> None:
    clock = [0.0]
    budget = MemoryBudget(clock)
    shared = SharedRate("pn-1", budget, _rates(90.0, replicas=3))
    budget.down = True
    await _sent([shared], clock, 1.0)
    assert shared.cut_off
    sent = 0
    for _ in range(10):  # an echo every 100 ms
        shared.spent_elsewhere(clock[0])
        sent += await _sent([shared], clock, 0.1)
    assert 30 - 10 - 2 <= sent <= 30 - 10 + 2  # the share, less the echoes


async def test_what_echoes_owe_is_at_most_a_burst() -> None:
    clock = [100.0]
    budget = MemoryBudget(clock)
    shared = SharedRate("pn-1", budget, _rates(100.0))
    for _ in range(10_000):
        shared.spent_elsewhere(clock[0])  # nothing leased yet: owed
    clock[0] += 5.0
    assert await _sent([shared], clock, 2.0) >= 200 - shared.burst - shared.block_size - 5
