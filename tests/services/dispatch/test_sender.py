"""Each number's sender over a scripted piece of work: retries and Meta's slow-downs, the
circuit of refused credentials, a backlog left in the ledger, and crashes told apart from a
lost ledger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from services.dispatch import sender
from services.dispatch.backpressure import Backpressure
from services.dispatch.circuit import CircuitState
from services.dispatch.errors import LedgerUnavailable
from services.dispatch.lanes import Queued
from services.dispatch.ledger import LedgerRow, LedgerState
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.sender import DONE, AttemptResult, Senders, queued
from services.dispatch.settings import DispatchSettings
from shared.meta_errors import Pace
from shared.metrics import new_registry
from tests.services.dispatch.fakes import FakeClock, FakeConsumer

SETTINGS = DispatchSettings.model_validate(
    {
        "rates": {"default_mps": 1000, "pair_interval_s": 0.001, "pair_burst": 50, "spill_at": 3},
        "circuit_cooldown_s": 0.1,
    }
)
Result = AttemptResult | BaseException


@dataclass
class Work:
    """The number's work as the ledger would do it: `queue` holds the queued intents (what
    `reload` reads); an attempt takes its intent out, or finds it taken and does nothing, and
    puts it back unless its scripted result ended it."""

    results: dict[str, list[Result]] = field(default_factory=dict)
    queue: list[Queued] = field(default_factory=list)
    attempted: list[tuple[str, float]] = field(default_factory=list)

    async def attempt(self, item: Queued) -> AttemptResult:
        if all(q.intent_id != item.intent_id for q in self.queue):
            return DONE  # another attempt took it
        self.attempted.append((item.intent_id, time.monotonic()))
        self.queue = [q for q in self.queue if q.intent_id != item.intent_id]
        script = self.results.get(item.intent_id)
        result = script.pop(0) if script else DONE
        if isinstance(result, BaseException) or result.action != "done":
            self.queue.append(item)  # still queued in the ledger
        if isinstance(result, BaseException):
            raise result
        return result

    async def reload(self, phone_number_id: str, limit: int) -> list[tuple[Queued, float]]:
        return [(item, 0.0) for item in self.queue[:limit]]

    def ids(self) -> list[str]:
        return [intent_id for intent_id, _ in self.attempted]


@dataclass
class Parts:
    work: Work
    consumer: FakeConsumer
    backpressure: Backpressure
    clock: FakeClock
    senders: Senders

    def submit(self, intent_id: str, later_s: float = 0.0) -> None:
        """Queue the intent in the ledger and hand it to its sender, due `later_s` from now."""
        row = _row(intent_id)
        self.work.queue.append(queued(row))
        self.backpressure.admitted("p0")
        self.senders.submit(row, self.clock.now + timedelta(seconds=later_s), "p0")

    async def until(self, check: Callable[[], object], timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            assert time.monotonic() < deadline, "condition not reached in time"
            await asyncio.sleep(0.005)


def _row(intent_id: str) -> LedgerRow:
    return LedgerRow(intent_id, "pn-1", f"1{intent_id}", LedgerState.QUEUED, None, 0, {})


@pytest.fixture
async def parts() -> AsyncIterator[Parts]:
    work, consumer, clock = Work(), FakeConsumer(assigned={"p0"}), FakeClock()
    metrics = DispatchMetrics(new_registry())
    backpressure = Backpressure(consumer, 100, 50, metrics.paused)
    senders = Senders(SETTINGS, work, backpressure, metrics, clock)
    yield Parts(work, consumer, backpressure, clock, senders)
    await senders.close()


async def test_a_submitted_intent_is_attempted_and_its_partition_released(parts: Parts) -> None:
    parts.submit("i-1")
    await parts.until(lambda: parts.backpressure.backlog("p0") == 0)
    assert parts.work.ids() == ["i-1"] and parts.senders.crash() is None


async def test_an_intent_due_later_waits_until_then(parts: Parts) -> None:
    started = time.monotonic()
    parts.submit("i-1", later_s=0.1)
    await parts.until(lambda: parts.work.attempted)
    assert parts.work.attempted[0][1] - started >= 0.09


async def test_a_retry_goes_again_after_its_delay_and_a_throttle_slows_the_whole_number(
    parts: Parts,
) -> None:
    parts.work.results["i-1"] = [AttemptResult("retry", 0.1, Pace.THROTTLED)]
    parts.submit("i-1")
    await parts.until(lambda: len(parts.work.attempted) == 1)
    parts.submit("i-2")  # another intent of the number, after Meta said slow down
    await parts.until(lambda: len(parts.work.attempted) == 3)
    first = parts.work.attempted[0][1]
    assert all(at - first >= 0.09 for _, at in parts.work.attempted[1:])
    assert sorted(parts.work.ids()[1:]) == ["i-1", "i-2"]
    await parts.until(lambda: parts.backpressure.backlog("p0") == 0)


async def test_refused_credentials_hold_the_number_until_a_probe_gets_through(
    parts: Parts,
) -> None:
    parts.work.results["i-1"] = [AttemptResult("hold")]
    parts.submit("i-1")
    number = parts.senders.get("pn-1")
    await parts.until(lambda: number.circuit.state is CircuitState.OPEN)
    parts.submit("i-2")  # held: it waits in the ledger, and its partition is not held up
    assert len(number.lanes) == 0 and parts.backpressure.backlog("p0") == 0
    await parts.until(lambda: number.circuit.state is CircuitState.CLOSED)
    await parts.until(lambda: len(parts.work.attempted) == 3)
    assert parts.work.ids() == ["i-1", "i-1", "i-2"]  # the probe first, then the rest


async def test_a_probe_without_an_answer_keeps_the_number_held(parts: Parts) -> None:
    parts.work.results["i-1"] = [AttemptResult("hold"), AttemptResult("done", answered=False)]
    parts.submit("i-1")
    number = parts.senders.get("pn-1")
    await parts.until(lambda: number.circuit.state is CircuitState.OPEN)
    parts.submit("i-2")
    await parts.until(lambda: len(parts.work.attempted) == 2)  # the probe
    await asyncio.sleep(0.02)
    assert number.circuit.state is CircuitState.OPEN and parts.work.ids() == ["i-1", "i-1"]
    await parts.until(lambda: number.circuit.state is CircuitState.CLOSED)  # the next probe


async def test_a_backlog_past_the_memory_cap_waits_in_the_ledger_and_is_read_back(
    parts: Parts,
) -> None:
    number = parts.senders.get("pn-1")
    number.bucket.block(time.monotonic(), 0.2)
    ids = [f"i-{n}" for n in range(5)]
    for intent_id in ids:
        parts.submit(intent_id)
    assert len(number.lanes) == 3 and parts.backpressure.backlog("p0") == 3
    await parts.until(lambda: len(parts.work.attempted) == 5)
    assert sorted(parts.work.ids()) == ids


async def test_a_lost_ledger_during_an_attempt_tries_it_again(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "STORE_RETRY_S", 0.01)
    parts.work.results["i-1"] = [LedgerUnavailable("ledger unavailable: down")]
    parts.submit("i-1")
    await parts.until(lambda: len(parts.work.attempted) == 2)
    assert parts.senders.crash() is None and not parts.senders.failed.is_set()


async def test_a_bug_in_an_attempt_stops_the_number_and_is_the_crash_raised(
    parts: Parts,
) -> None:
    bug = ValueError("a bug")
    parts.work.results["i-1"] = [bug]
    parts.submit("i-1")
    await asyncio.wait_for(parts.senders.failed.wait(), 5)
    assert parts.senders.crash() is bug


async def test_closing_waits_for_the_sends_in_flight(parts: Parts) -> None:
    finished: list[str] = []

    async def slow(item: Queued) -> AttemptResult:
        await asyncio.sleep(0.1)
        finished.append(item.intent_id)
        return DONE

    parts.work.attempt = slow  # type: ignore[method-assign]
    parts.submit("i-1")
    await asyncio.sleep(0.02)
    await parts.senders.close()
    assert finished == ["i-1"]
