"""Dispatch's adapters as fakes: the ledger in memory (held to the same contract as PostgreSQL
in test_ledger_contract.py), a publisher that records what would go to Kafka, a consumer that
records pauses, a scripted Cloud API client, a scheduler that records what it was given, and a
clock that moves when told."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.dispatch.budget import BudgetUnavailable, Grant
from services.dispatch.cloudapi import SendOutcome
from services.dispatch.errors import LedgerUnavailable
from services.dispatch.lanes import LANES
from services.dispatch.ledger import (
    INTERNAL,
    RESENDABLE,
    STATE_ONLY,
    Change,
    LedgerRow,
    LedgerState,
    NewIntent,
    Write,
)
from services.dispatch.rates import TokenBucket
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import Event, utcnow
from shared.topics import TopicSpec


@dataclass
class FakeClock:
    """A wall clock that moves only when told."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class InMemoryLedger:
    """`ledger.Ledger` over dicts, every change a compare-and-set like PostgresLedger's."""

    clock: Callable[[], datetime] = utcnow
    rows: dict[str, LedgerRow] = field(default_factory=dict)
    last_error: dict[str, dict[str, Any]] = field(default_factory=dict)
    early: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    unavailable: bool = False  # True: every operation fails as a lost database would
    resends: list[tuple[str, str, str]] = field(default_factory=list)  # (intent, by, from)
    claim_batches: list[int] = field(default_factory=list)  # the size of each claim_many
    record_batches: list[int] = field(default_factory=list)  # the size of each record_many

    def _reach(self) -> datetime:
        if self.unavailable:
            raise LedgerUnavailable("ledger unavailable: the fake was cut off")
        return self.clock()

    def age(self, intent_id: str, seconds: float) -> None:
        """Pretend the intent has been in its state `seconds` longer."""
        row = self.rows[intent_id]
        assert row.state_since is not None
        self.rows[intent_id] = replace(
            row, state_since=row.state_since - timedelta(seconds=seconds)
        )

    async def claim(self, new: NewIntent) -> tuple[LedgerRow, bool]:
        now = self._reach()
        known = self.rows.get(new.intent_id)
        if known is not None:
            return known, False
        row = LedgerRow(
            new.intent_id, new.phone_number_id, new.recipient, new.state, None, 0,
            dict(new.metadata), new.priority, new.not_after, next_attempt_at=now,
            state_since=now, decision=new.decision, report=new.report,
        )  # fmt: skip
        self.rows[new.intent_id] = row
        return row, True

    async def claim_many(self, news: Sequence[NewIntent]) -> list[tuple[LedgerRow, bool]]:
        self.claim_batches.append(len(news))
        return [await self.claim(new) for new in news]

    async def get(self, intent_id: str) -> LedgerRow | None:
        self._reach()
        return self.rows.get(intent_id)

    async def by_wamid(self, wamid: str) -> LedgerRow | None:
        self._reach()
        return next((r for r in self.rows.values() if r.wamid == wamid), None)

    async def named(self, intent_ids: Sequence[str], wamids: Sequence[str]) -> list[LedgerRow]:
        self._reach()
        ids, known = set(intent_ids), set(wamids)
        return [r for r in self.rows.values() if r.intent_id in ids or r.wamid in known]

    async def start_attempt(self, intent_id: str) -> LedgerRow | None:
        now = self._reach()
        row = self.rows.get(intent_id)
        if row is None or row.state != LedgerState.QUEUED:
            return None
        started = replace(
            row, state=LedgerState.SENDING, attempts=row.attempts + 1, state_since=now
        )
        self.rows[intent_id] = started
        return started

    async def record(
        self,
        intent_id: str,
        state: LedgerState,
        *,
        expect: LedgerState | None = None,
        change: Change = STATE_ONLY,
    ) -> LedgerRow | None:
        now = self._reach()
        row = self.rows.get(intent_id)
        if row is None or (expect is not None and row.state != expect):
            return None
        wamid = change.wamid
        if wamid is not None and any(
            r.wamid == wamid for r in self.rows.values() if r.intent_id != intent_id
        ):
            raise asyncpg.UniqueViolationError(f"wamid {wamid} belongs to another intent")
        if change.error is not None:
            self.last_error[intent_id] = change.error
        moved = replace(
            row,
            state=state,
            wamid=row.wamid if wamid is None else wamid,
            next_attempt_at=change.next_attempt_at,
            decision=row.decision if change.decision is None else change.decision,
            attempts=row.attempts - (1 if change.refund_attempt else 0),
            redecision=row.redecision if change.redecision is None else change.redecision,
            superseded=row.superseded
            + ((change.supersede,) if change.supersede is not None else ()),
            state_since=row.state_since if row.state == state else now,
            report=change.report
            if change.report is not None
            else (row.report if row.state == state else None),
        )
        self.rows[intent_id] = moved
        return moved

    async def record_many(self, writes: Sequence[Write]) -> list[LedgerRow | None]:
        self._reach()
        assert len({intent_id for intent_id, *_ in writes}) == len(writes), "an intent twice"
        self.record_batches.append(len(writes))
        done: list[LedgerRow | None] = []
        for intent_id, state, expect, change in writes:
            try:
                done.append(await self.record(intent_id, state, expect=expect, change=change))
            except asyncpg.UniqueViolationError:
                done.append(None)
        return done

    async def resend(self, intent_id: str, requested_by: str) -> LedgerRow | None:
        now = self._reach()
        row = self.rows.get(intent_id)
        if row is None or row.state not in RESENDABLE:
            return None
        self.resends.append((intent_id, requested_by, row.state))
        moved = replace(row, state=LedgerState.QUEUED, next_attempt_at=now, state_since=now)
        self.rows[intent_id] = moved
        return moved

    async def mark_reported(self, intent_id: str, state: LedgerState) -> None:
        self._reach()
        row = self.rows.get(intent_id)
        if row is not None and row.state == state:
            self.rows[intent_id] = replace(row, reported=state)

    async def mark_reported_many(self, marks: Sequence[tuple[str, LedgerState]]) -> None:
        self._reach()
        for intent_id, state in marks:
            await self.mark_reported(intent_id, state)

    async def queued(
        self, phone_number_id: str | None = None, limit: int | None = None
    ) -> list[LedgerRow]:
        now = self._reach()

        def order(row: LedgerRow) -> tuple[int, int, bool, datetime]:
            due = row.next_attempt_at
            later = 2 if due is None else int(due > now)  # SQL sorts NULL after true
            lane = LANES.index(row.priority) if row.priority in LANES else len(LANES) - 1
            return later, lane, due is None, due or now

        rows = [
            r
            for r in self.rows.values()
            if r.state == LedgerState.QUEUED
            and (phone_number_id is None or r.phone_number_id == phone_number_id)
        ]
        return sorted(rows, key=order)[:limit]

    async def queued_numbers(self) -> list[str]:
        self._reach()
        queued = (r.phone_number_id for r in self.rows.values() if r.state == LedgerState.QUEUED)
        return list(dict.fromkeys(queued))

    async def stale(
        self, state: LedgerState, before: datetime, limit: int = 500
    ) -> list[LedgerRow]:
        self._reach()
        return self._oldest(lambda r: r.state == state, before, limit)

    async def unreported(self, before: datetime, limit: int = 500) -> list[LedgerRow]:
        self._reach()
        return self._oldest(
            lambda r: r.reported != r.state and r.state not in INTERNAL, before, limit
        )

    def _oldest(
        self, keep: Callable[[LedgerRow], bool], before: datetime, limit: int
    ) -> list[LedgerRow]:
        rows = [r for r in self.rows.values() if keep(r) and _since(r) < before]
        return sorted(rows, key=_since)[:limit]

    async def keep_status(self, wamid: str, status: str, event: str) -> None:
        now = self._reach()
        self.early.setdefault((wamid, status), (event, now))

    async def take_statuses(self, wamid: str) -> list[str]:
        self._reach()
        mine = [key for key in self.early if key[0] == wamid]
        return [self.early.pop(key)[0] for key in mine]

    async def forget_statuses(self, before: datetime) -> None:
        self._reach()
        self.early = {k: v for k, v in self.early.items() if v[1] >= before}

    async def recorded_kept(self, limit: int = 500) -> list[str]:
        self._reach()
        recorded = {row.wamid for row in self.rows.values() if row.wamid is not None}
        return sorted({wamid for wamid, _ in self.early if wamid in recorded})[:limit]


def _since(row: LedgerRow) -> datetime:
    assert row.state_since is not None
    return row.state_since


@dataclass
class RecordingPublisher:
    events: list[tuple[str, Event, str | None, dict[str, bytes]]] = field(default_factory=list)

    async def publish(
        self,
        spec: TopicSpec,
        event: Event,
        key: str | None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        self.events.append((spec.name, event, key, dict(headers)))

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None:
        for spec, event, key in items:
            await self.publish(spec, event, key)

    def on(self, topic: str) -> list[Event]:
        return [e for t, e, _, _ in self.events if t == topic]

    def updates(self, intent_id: str) -> list[DeliveryUpdated]:
        return [
            e
            for e in self.on("wagate.delivery.v1")
            if isinstance(e, DeliveryUpdated) and e.intent_id == intent_id
        ]

    def states(self, intent_id: str) -> list[str]:
        return [u.state for u in self.updates(intent_id)]

    def dead_letters(self) -> list[dict[str, bytes]]:
        return [h for t, _, _, h in self.events if t == "wagate.deadletter.v1"]


@dataclass
class FakeConsumer:
    assigned: set[object] = field(default_factory=set)
    paused_now: set[object] = field(default_factory=set)

    def pause(self, *partitions: object) -> None:
        self.paused_now.update(partitions)

    def resume(self, *partitions: object) -> None:
        self.paused_now.difference_update(partitions)

    def assignment(self) -> set[object]:
        return self.assigned


Answer = SendOutcome | BaseException


@dataclass
class ScriptedApi:
    """`cloudapi.MessagesApi` in memory: the next answers per callback data, in order (an
    exception is raised, as a request with no answer would); otherwise a wamid."""

    answers: dict[str, list[Answer]] = field(default_factory=dict)
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)

    def script(self, callback: str, *answers: Answer) -> None:
        self.answers.setdefault(callback, []).extend(answers)

    async def send(
        self, phone_number_id: str, payload: dict[str, Any], endpoint: str = "messages"
    ) -> SendOutcome:
        callback = str(payload.get("biz_opaque_callback_data", ""))
        self.sent.append((phone_number_id, payload))
        self.endpoints.append(endpoint)
        script = self.answers.get(callback)
        answer: Answer = script.pop(0) if script else SendOutcome(200, wamid=f"wamid.{callback}")
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def count(self, callback: str) -> int:
        return sum(1 for _, p in self.sent if p.get("biz_opaque_callback_data") == callback)


@dataclass
class RecordingScheduler:
    """`sender.Scheduler` that keeps what it was handed: (intent id, due, source)."""

    submitted: list[tuple[str, datetime, object]] = field(default_factory=list)

    def submit(self, row: LedgerRow, due: datetime, source: object = None) -> None:
        self.submitted.append((row.intent_id, due, source))


class MemoryBudget:
    """The shared row as a token bucket on the test's clock; `down` makes it unreachable."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.rows: dict[str, TokenBucket] = {}
        self.asks = 0
        self.blocks: list[tuple[str, float]] = []
        self.down = False

    async def lease(self, phone_number_id: str, rate: float, burst: float, want: int) -> Grant:
        if self.down:
            raise BudgetUnavailable("the shared rate budget unavailable: test")
        self.asks += 1
        row = self.rows.setdefault(phone_number_id, TokenBucket(rate, burst))
        row.rate, row.burst = rate, burst
        now = self.clock[0]
        taken = 0
        while taken < want and row.try_take(now):
            taken += 1
        return Grant(taken, 0.0 if taken else row.wait_s(now))

    async def block(self, phone_number_id: str, seconds: float) -> None:
        self.blocks.append((phone_number_id, seconds))
        self.rows[phone_number_id].block(self.clock[0], seconds)
