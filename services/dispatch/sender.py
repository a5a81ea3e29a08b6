"""One sending task per business phone number: its token bucket, pair-rate gate, priority
lanes and circuit. Waiting happens here, never in a Kafka handler, so a slow or refused
number holds up nobody else. Under a supervisor (`shared.supervise`) a sender that crashed
starts again and reads its queue back from the ledger.

`Senders` is the scheduler the decision handler and the settler hand queued intents to; what
a number's sender does with one (`Work`: send it once; read the number's queue back from the
ledger) is given to `Senders` when it is made."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Protocol

from services.dispatch.backpressure import Backpressure
from services.dispatch.budget import Budget, SharedRate
from services.dispatch.circuit import Circuit, CircuitState
from services.dispatch.lanes import Lanes, Queued
from services.dispatch.ledger import LedgerRow
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.rates import PairGate, TokenBucket
from services.dispatch.settings import DispatchSettings
from shared import logs, tracing
from shared.errors import RetryableError
from shared.meta_errors import Pace, Scope
from shared.supervise import Supervisor

log = logs.get(__name__)
STORE_RETRY_S = 1.0


@dataclass(frozen=True)
class AttemptResult:
    """What the sender does with an intent after one attempt."""

    action: str  # done | retry | hold | requeue
    delay_s: float = 0.0
    kind: Pace | None = None
    answered: bool = True  # Meta answered (the credentials were not refused)
    requested: bool = True  # a request went to Meta (a probe of a held number needs one)
    scope: Scope | None = None  # a hold Meta put on more than the credentials


DONE = AttemptResult("done")
UNSENT = AttemptResult("done", requested=False)  # ended or handed back with no request


class Work(Protocol):
    """What a number's sender does with its intents (`handlers.Dispatcher`)."""

    async def attempt(self, item: Queued) -> AttemptResult:
        """One send of a queued intent."""
        ...

    async def reload(self, phone_number_id: str, limit: int) -> list[tuple[Queued, float]]:
        """The number's queued intents from the ledger, with their delays in seconds."""
        ...


class Scheduler(Protocol):
    """Hands a queued intent to its number's sender (`Senders`)."""

    def submit(self, row: LedgerRow, due: datetime, source: object = None) -> None: ...


def queued(row: LedgerRow, source: object = None) -> Queued:
    """A ledger row as its sender queues it; `source` is the partition it came from, if any."""
    return Queued(row.intent_id, row.recipient, row.priority, source)


class NumberSender:
    def __init__(
        self,
        phone_number_id: str,
        settings: DispatchSettings,
        work: Work,
        backpressure: Backpressure,
        metrics: DispatchMetrics,
        on_hold: Callable[[str, Scope], None] | None = None,
        budget: Budget | None = None,
    ) -> None:
        rates = settings.rates
        mps = rates.mps(phone_number_id)
        self.phone_number_id = phone_number_id
        self.lanes = Lanes()
        self.bucket = TokenBucket(mps, max(1.0, mps * rates.burst_s))
        # the number's budget shared with the other replicas; None: this bucket alone
        self.shared = SharedRate(phone_number_id, budget, rates) if budget else None
        self._deepen()
        self._rates = rates
        self._hold_s = settings.sender_hold_s
        self._on_hold = on_hold
        self.pairs = PairGate(rates.pair_interval_s, rates.pair_burst)
        self.circuit = Circuit(settings.circuit_cooldown_s, settings.circuit_max_cooldown_s)
        self._work = work
        self._backpressure, self._metrics = backpressure, metrics
        self._slots = asyncio.Semaphore(rates.max_in_flight)
        self._wake = asyncio.Event()
        self._stopping = False
        self._probing = False
        self._spill_at = rates.spill_at
        self._refill = False  # intents of this number wait in the ledger only
        self._tasks: set[asyncio.Task[None]] = set()
        self.crashed: BaseException | None = None

    def submit(self, item: Queued, delay_s: float) -> None:
        """Queue an intent here; a held number, or one with a long backlog, leaves it in the
        ledger (still queued) and reads it back later, so it never pauses a partition."""
        if self.circuit.state is not CircuitState.CLOSED or len(self.lanes) >= self._spill_at:
            self._refill = self._refill or self.circuit.state is CircuitState.CLOSED
            self._backpressure.released(item.source)
            return
        if not self.lanes.push(item, time.monotonic() + max(delay_s, 0.0)):
            self._backpressure.released(item.source)  # already queued here
        self._wake.set()

    def observe(self, recipient: str, now: float) -> None:
        """A message the number sent without dispatch (an echo) used the number's throughput
        and the customer's pair rate: the next sends wait as if dispatch had sent it, and
        with a shared budget every replica's do."""
        self.bucket.spend(now)
        self.pairs.spend(recipient, now)
        if self.shared is not None:
            self.shared.spent_elsewhere(now)

    def retune(self, meta_mps: float) -> None:
        """Meta moved the number to another throughput tier: the bucket runs at it now."""
        mps = meta_mps * (1 - self._rates.headroom)
        self.bucket.rate = mps
        self.bucket.burst = max(1.0, mps * self._rates.burst_s)
        if self.shared is not None:
            self.shared.retune(mps)
        self._deepen()
        self._wake.set()

    def _deepen(self) -> None:
        """With a shared budget this bucket is as deep as the budget: the budget bounds the
        number's rate, and time spent leasing is not lost to a shallow bucket."""
        if self.shared is not None:
            self.bucket.burst = max(self.bucket.burst, self.shared.burst)

    def hold(self, now: float) -> None:
        """Meta stopped the account or portfolio this number belongs to: it waits too."""
        self.circuit.hold(now, self._hold_s)
        self._metrics.circuit.labels(self.phone_number_id).set(1)
        for parked in self.lanes.drain():
            self._backpressure.released(parked.source)
        self._wake.set()

    def release(self) -> None:
        """Meta said the sender may send again: a held number probes at once."""
        self.circuit.release()
        self._wake.set()

    def refill_soon(self) -> None:
        """Intents of this number wait in the ledger (after a restart): read them when idle."""
        self._refill = True
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _sleep(self, seconds: float | None) -> None:
        """Wait `seconds` (None: until woken); a submit since the step began wakes it at once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def run(self) -> None:
        if self.crashed is not None:  # started again after a crash: read the queue back
            self.crashed, self._refill = None, True
        try:
            while not self._stopping and self.crashed is None:
                await self._step(time.monotonic())
            if self.crashed is not None:
                raise self.crashed
        finally:
            if self._tasks:
                await asyncio.wait(self._tasks)

    async def _step(self, now: float) -> None:
        self._wake.clear()  # before looking, so nothing submitted from here on is missed
        circuit = self.circuit
        if circuit.state is CircuitState.OPEN:
            wait = circuit.reopens_in(now)
            if wait > 0:
                await self._sleep(wait)
                return
            circuit.allows(now)
            await self._refilled(now)  # the held intents, for the probe and after
        if circuit.state is CircuitState.HALF_OPEN and self._probing:
            await self._sleep(None)
            return
        wait = self.bucket.wait_s(now)
        if not wait and self.shared is not None and self._due(now):
            wait = await self.shared.wait_s(now)
        if wait > 0:
            self._metrics.bucket_wait_seconds.observe(wait)
            await self._sleep(wait)
            return
        item = self.lanes.pop_ready(now, lambda r: self.pairs.wait_s(r, now))
        if item is None:
            if self._refill and await self._refilled(now) > 0:
                return
            due = self.lanes.next_due()
            await self._sleep(None if due is None else max(due - now, 0.0))
            return
        await self._slots.acquire()
        if self._stopping:  # stopped while waiting for a slot: it stays queued in the ledger
            self._slots.release()
            self._backpressure.released(item.source)
            return
        if self.shared is not None and not self.shared.take(time.monotonic()):
            self._slots.release()  # the lease ran out while waiting for a slot
            self.lanes.push(item, now)
            return
        self.bucket.try_take(now)
        self.pairs.try_take(item.recipient, now)
        self._probing = circuit.state is CircuitState.HALF_OPEN
        task = asyncio.create_task(self._one(item))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _due(self, now: float) -> bool:
        due = self.lanes.next_due()
        return due is not None and due <= now

    async def _refilled(self, now: float) -> int:
        """Read the number's queued intents back from the ledger; how many are new here."""
        self._refill = False
        try:
            rows = await self._work.reload(self.phone_number_id, self._spill_at)
        except RetryableError as exc:
            log.warning("cannot read queued intents; trying again", reason=str(exc))
            self._refill = True
            await self._sleep(STORE_RETRY_S)
            return 0
        added = sum(self.lanes.push(queued, now + delay) for queued, delay in rows)
        self._refill = len(rows) >= self._spill_at and added > 0  # more may wait beyond
        return added

    async def _one(self, item: Queued) -> None:
        try:
            result = await self._work.attempt(item)
        except RetryableError as exc:
            log.warning("attempt could not complete; trying again", reason=str(exc))
            result = AttemptResult("retry", STORE_RETRY_S, answered=False)
        except Exception as exc:  # a bug: stop the number's sender and crash the process
            self.crashed = exc
            self._wake.set()
            return
        finally:
            self._slots.release()
            self._wake.set()
        self._apply(item, result, time.monotonic())

    def _held(self, item: Queued, scope: Scope | None, now: float) -> None:
        """Hold the number: refused credentials double the cool-down each time; Meta's stop
        of the sender holds it its own while (and the WABA's or portfolio's other numbers)."""
        self._probing = False
        if scope is not None:
            self.circuit.hold(now, self._hold_s)
            if scope is not Scope.NUMBER and self._on_hold is not None:
                self._on_hold(self.phone_number_id, scope)
        elif self.circuit.state is not CircuitState.OPEN:  # other sends in flight said so too
            self.circuit.refused(now)
        self._metrics.circuit.labels(self.phone_number_id).set(1)
        log.warning(
            "Meta holds the number",
            scope=scope.value if scope else "credentials",
            cooldown_s=self.circuit.current_cooldown_s,
        )
        for parked in [item, *self.lanes.drain()]:
            self._backpressure.released(parked.source)

    def _apply(self, item: Queued, result: AttemptResult, now: float) -> None:
        if self.circuit.state is CircuitState.HALF_OPEN and result.action != "hold":
            self._probing = False
            if not result.requested:
                pass  # nothing reached Meta: the next intent probes
            elif result.answered:
                self.circuit.succeeded()
                self._metrics.circuit.labels(self.phone_number_id).set(0)
            else:
                self.circuit.inconclusive(now)
        if result.action == "hold":
            self._held(item, result.scope, now)
            return
        if result.action == "done":
            self._backpressure.released(item.source)
            return
        if result.kind is Pace.THROTTLED:
            self.bucket.block(now, result.delay_s)
            if self.shared is not None:
                self.shared.throttled(now, result.delay_s)
        elif result.kind is Pace.PAIR_RATE:
            self.pairs.block(item.recipient, now, result.delay_s)
        if self.circuit.state is CircuitState.CLOSED:
            self.lanes.push(item, now + result.delay_s)
        else:
            self._backpressure.released(item.source)


class Senders:
    """The senders of every number seen so far, created on first use."""

    def __init__(
        self,
        settings: DispatchSettings,
        work: Work,
        backpressure: Backpressure,
        metrics: DispatchMetrics,
        clock: Callable[[], datetime],
        supervisor: Supervisor | None = None,
        same_account: Callable[[str], list[str]] = lambda _number: [],
        budget: Budget | None = None,
    ) -> None:
        self._settings = settings
        self._budget = budget  # the budget the replicas share; None: each number's own bucket
        self._same_account = same_account  # the numbers a WABA or portfolio hold stops too
        self._supervisor = supervisor  # restarts a crashed sender; without one, a crash stops
        self._work = work
        self._backpressure = backpressure
        self._metrics = metrics
        self._clock = clock
        self._senders: dict[str, NumberSender] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.failed = asyncio.Event()

    def get(self, phone_number_id: str) -> NumberSender:
        sender = self._senders.get(phone_number_id)
        if sender is None:
            sender = NumberSender(
                phone_number_id, self._settings, self._work, self._backpressure, self._metrics,
                self._held, self._budget,
            )  # fmt: skip
            self._senders[phone_number_id] = sender
            name = f"sender-{phone_number_id}"
            run = sender.run
            if self._supervisor is not None:
                run = partial(self._supervisor.keep, name, sender.run)
            task = asyncio.create_task(run(), name=name, context=tracing.untraced())
            task.add_done_callback(self._done)
            self._tasks[phone_number_id] = task
        return sender

    def _held(self, phone_number_id: str, scope: Scope) -> None:
        """One number met Meta's stop of its WABA or portfolio: the others of it wait too."""
        now = time.monotonic()
        for other in self._same_account(phone_number_id):
            self.get(other).hold(now)
        log.warning("Meta's hold covers the account's numbers", scope=scope.value)

    def retune(self, phone_number_id: str, meta_mps: float) -> None:
        self.get(phone_number_id).retune(meta_mps)

    def release(self, phone_number_id: str) -> None:
        sender = self._senders.get(phone_number_id)
        if sender is not None:
            sender.release()

    def _done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is not None:
            self.failed.set()

    def submit(self, row: LedgerRow, due: datetime, source: object = None) -> None:
        delay = (due - self._clock()).total_seconds()
        self.get(row.phone_number_id).submit(queued(row, source), delay)

    def crash(self) -> BaseException | None:
        for task in self._tasks.values():
            if task.done() and not task.cancelled() and task.exception() is not None:
                return task.exception()
        return None

    async def close(self) -> None:
        """Stop taking new sends and wait for those in flight to record their answers."""
        for sender in self._senders.values():
            sender.stop()
        if self._tasks:
            await asyncio.wait(self._tasks.values())
